"""Bulk inserts: COPY on PostgreSQL (ids taken from the table's sequence first), a
multi-row INSERT ... RETURNING elsewhere. Roster imports write thousands of rows at once;
on PostgreSQL, COPY costs a fraction of building and parsing giant INSERT statements."""
from __future__ import annotations

import enum

from sqlalchemy import Table, insert, text

from ..db import db


def _value(value):
    return value.name if isinstance(value, enum.Enum) else value


def insert_rows(table: Table, rows: list[dict], *, want_ids: bool = False) -> list[int]:
    """Insert `rows` (dicts of column values, same keys) into `table`, in this
    transaction; returns their ids in order when `want_ids`."""
    if not rows:
        return []
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        stmt = insert(table)
        if want_ids:
            return list(db.session.execute(
                stmt.returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
        db.session.execute(stmt, rows)
        return []
    ids: list[int] = []
    if want_ids:
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                           {"t": table.name}).scalar()
        ids = list(conn.execute(text("SELECT nextval(:s) FROM generate_series(1, :n)"),
                                {"s": seq, "n": len(rows)}).scalars())
        rows = [{**row, "id": new_id} for row, new_id in zip(rows, ids)]
    given = list(rows[0])
    # Columns left out get their Python-side default (as an ORM insert would), else the
    # server default or NULL.
    defaults = [c for c in table.columns if c.name not in given and c.default is not None
                and not c.default.is_sequence]
    names = given + [c.name for c in defaults]
    columns = ", ".join(f'"{name}"' for name in names)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            extra = [c.default.arg if c.default.is_scalar else c.default.arg(None)
                     for c in defaults]
            copy.write_row([_value(row[name]) for name in given] + [_value(v) for v in extra])
    return ids
