"""db.alone(statement, params): one statement, committed at once, outside the request's
transaction (the token endpoint's statements that are atomic by themselves)."""
from __future__ import annotations

from sqlalchemy import insert, select, update

from idp.db import db
from idp.models import School


def test_one_statement_commits_even_when_the_request_rolls_back(app):
    with app.app_context():
        db.session.add(School(uai="0540002B", name="Never kept", academy_code="nancy-metz"))
        row = db.alone(insert(School).values(uai="0540001A", name="Collège Alone",
                                             academy_code="nancy-metz", level="2d")
                       .returning(School.id), {})
        assert row is not None and row.id > 0
        db.session.flush()  # the request's own work, in its transaction...
        db.session.rollback()  # ...which fails: what ran alone stays
    with app.app_context():
        names = db.session.scalars(select(School.name)).all()
        assert names == ["Collège Alone"]


def test_the_first_row_or_none(app):
    with app.app_context():
        assert db.alone(select(School.id).where(School.uai == "nobody"), {}) is None
        assert db.alone(update(School).values(name="x"), {}) is None  # no rows returned
