"""A school's population as its records say (roster imports), for the dashboard
(dashboard.py): every (account, pupil record) pair, the pupils' own accounts and their
legal representatives' (RecordGuardianLink), and those accounts' rows.

Every query reads one table through an index: the school's pupil records
(pupil_records.school_id), their record links (record_guardian_links.pupil_record_id), the
representative records and the accounts by primary key (`= ANY(array)`); so its
cost follows the school's size (a large lycée: 3,000 pupils, 5,000 representatives),
never the IdP's. Joined in one statement, PostgreSQL hashed whole tables (measured in
bench/dashboard_bench.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, any_, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from ..db import db
from ..models import (Account, AccountState, FranceConnectLink, PupilRecord,
                      RecordGuardianLink, RepresentativeRecord, School)

CHUNK = 2000  # ids per IN list (SQLite's bound-parameter limit is far above)


def _member_of(column, values: list) -> list:
    """Conditions `column IN values`, one per statement to run. PostgreSQL: one
    `= ANY(array)` (one parameter: psycopg spent 30 ms splitting a query of 2,000
    parameters); elsewhere IN lists of CHUNK ids."""
    if not values:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        return [column == any_(literal(values, ARRAY(Integer)))]
    return [column.in_(values[i:i + CHUNK]) for i in range(0, len(values), CHUNK)]


@dataclass
class Pair:
    """An account reached through one pupil record: the pupil's own account, or one of
    the pupil's representatives."""
    account_id: int
    class_name: str | None
    pupil_first: str
    pupil_last: str


def _run(stmt):
    # Core execution on the session's connection: the ORM's result machinery cost more
    # than the query for these thousands of plain rows.
    return db.session.connection().execute(stmt)


def pairs(school: School, record_clauses=(), profile: str = "") -> list[Pair]:
    """Every (account, pupil record) pair of the school, narrowed by `record_clauses` on
    the pupil record. Single-table queries, each on an index (pupil_records.school_id,
    record_guardian_links.pupil_record_id, representative_records' primary key): joined
    in one statement, PostgreSQL hashed whole tables that grow with the IdP."""
    records = _run(
        select(PupilRecord.id, PupilRecord.account_id, PupilRecord.class_name,
               PupilRecord.first_name, PupilRecord.last_name)
        .where(PupilRecord.school_id == school.id, *record_clauses)).all()
    pairs = []
    if profile != "parent":
        pairs += [Pair(r.account_id, r.class_name, r.first_name, r.last_name)
                  for r in records if r.account_id is not None]
    if profile != "pupil" and records:
        by_id = {r.id: r for r in records}
        links = []
        for condition in _member_of(RecordGuardianLink.pupil_record_id, list(by_id)):
            links += _run(
                select(RecordGuardianLink.pupil_record_id,
                       RecordGuardianLink.representative_record_id).where(condition)).all()
        holders = {}
        for condition in _member_of(RepresentativeRecord.id,
                                    sorted({rep_id for _, rep_id in links})):
            holders.update(_run(
                select(RepresentativeRecord.id, RepresentativeRecord.account_id)
                .where(condition, RepresentativeRecord.account_id.is_not(None))).all())
        for record_id, rep_id in links:
            if rep_id in holders:
                r = by_id[record_id]
                pairs.append(Pair(holders[rep_id], r.class_name, r.first_name, r.last_name))
    return _follow_merges(pairs)


def _follow_merges(pairs: list[Pair]) -> list[Pair]:
    """A record whose account the family merged into another ("Ajouter un enfant",
    "Fusionner deux comptes") counts the account that took over: the school sees the
    family's real account and its state (the retired one says so on its own page)."""
    ids = sorted({p.account_id for p in pairs})
    for _hop in range(3):  # an account merged into one merged later
        moved = {}
        for condition in _member_of(Account.id, ids):
            moved.update(_run(select(Account.id, Account.merged_into_id).where(
                condition, Account.merged_into_id.is_not(None))).all())
        if not moved:
            break
        for pair in pairs:
            pair.account_id = moved.get(pair.account_id, pair.account_id)
        ids = sorted(set(moved.values()))
    return pairs


def accounts(ids, columns, clauses=()) -> dict[int, object]:
    """The rows of these accounts (not deleted, matching `clauses`), by primary key."""
    fc = FranceConnectLink
    cols = [Account.id, *columns, fc.created_account.label("fc_created")]
    out = {}
    for condition in _member_of(Account.id, sorted(set(ids))):
        stmt = select(*cols).where(condition, Account.state != AccountState.deleted,
                                   *clauses).outerjoin(fc, fc.account_id == Account.id)
        out.update((row.id, row) for row in _run(stmt))
    return out
