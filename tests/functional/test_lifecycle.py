"""Never-activated accounts: reminder a month before, deactivation at 3 months, deletion
after a year with the personal data; school records stay. Time moves, nobody sleeps."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from idp.db import db
from idp.extensions import passwords
from idp.lifecycle import run_lifecycle
from idp.models import (Account, AccountState, AuditEvent, GuardianLink, OutboxMessage,
                        PupilRecord, RepresentativeRecord)
from idp.roster import find_school, import_roster, issue_letters
from idp.roster.credentials import locked_password_hash

from ..support.cli import run_json

ROSTER = ("ine;nom;prenom;date_naissance;classe;resp1_nom;resp1_prenom;resp1_telephone;"
          "resp1_email\n"
          "1111111111A;Durand;Léo;14/03/2012;4e B;Durand;Marie;06 12 34 56 78;"
          "marie@example.org\n")
ISSUED = datetime(2026, 9, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def issued(app, make):
    make.school("0540042A")
    with app.app_context():
        import_roster("0540042A", ROSTER.encode())
        batch = issue_letters(find_school("0540042A"), now=ISSUED)
        db.session.commit()
        return {l.account.identifier: l.password for l in batch.letters}


def run(app, days: float) -> dict:
    with app.app_context():
        summary = run_lifecycle(now=ISSUED + timedelta(days=days))
        db.session.commit()
        return summary


def state(app, identifier: str) -> AccountState | None:
    with app.app_context():
        return db.session.scalar(select(Account.state).where(Account.identifier == identifier))


def test_nothing_happens_inside_the_window(app, issued):
    summary = run(app, 30)
    assert (summary["reminded"], summary["deactivated"], summary["deleted"]) == (0, 0, 0)


def test_reminder_once_a_month_before_where_an_email_is_known(app, issued):
    summary = run(app, 63)
    assert summary["reminded"] == 1  # the parent; the pupil has no email
    assert run(app, 64)["reminded"] == 0  # idempotent
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage))
        assert mail.recipient == "marie@example.org"
        assert "n'est pas encore activé" in mail.subject
        assert "m.durand" in mail.text and "http://localhost/connexion" in mail.text


def test_deactivation_at_the_deadline_and_the_sign_in_message(app, issued, browser):
    summary = run(app, 92)
    assert summary["deactivated"] == 2
    assert state(app, "m.durand") == AccountState.deactivated
    assert run(app, 93)["deactivated"] == 0
    browser.choose()
    page = browser.sign_in("m.durand", issued["m.durand"], choose=False)
    assert page.status_code == 403
    assert "Rapprochez-vous du secrétariat de votre établissement" in page.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "account_deactivated")) == 2


def test_deletion_after_a_year_erases_personal_data_keeps_records(app, issued, browser):
    browser.choose()
    browser.sign_in("m.durand", "Wrong-Pass-2026", choose=False)  # an audit line naming it
    run(app, 92)
    summary = run(app, 366)
    assert summary["deleted"] == 2 and run(app, 400)["deleted"] == 0
    with app.app_context():
        rows = db.session.scalars(select(Account)).all()
        assert {r.state for r in rows} == {AccountState.deleted}
        for row in rows:
            assert row.identifier == f"deleted-{row.public_id}"
            assert (row.first_name, row.last_name, row.email, row.phone, row.birth_date) == \
                ("", "", None, None, None)
            # No usable password: the locked hash (argon2 of a thrown-away secret).
            assert row.password_hash == locked_password_hash()
            assert not passwords().verify(row.password_hash, issued["m.durand"])
        assert db.session.scalar(select(func.count()).select_from(GuardianLink)) == 0
        pupil = db.session.scalar(select(PupilRecord))
        assert pupil.first_name == "Léo" and pupil.account_id is None
        assert db.session.scalar(select(RepresentativeRecord.account_id)) is None
        audit = db.session.execute(select(AuditEvent.actor, AuditEvent.target,
                                          AuditEvent.details)).all()
        assert not [a for a in audit if "durand" in f"{a.actor} {a.target} {a.details}"]
        assert sum(1 for a in audit if a.target and a.target.startswith("deleted:")) >= 2
    page = browser.sign_in("m.durand", issued["m.durand"], choose=False)
    assert "Identifiant ou mot de passe incorrect." in page.text


def test_a_reimport_after_deletion_issues_a_new_account(app, issued):
    run(app, 92)
    run(app, 366)
    with app.app_context():
        report = import_roster("0540042A", ROSTER.encode())
        db.session.commit()
        assert report.accounts_created == 2 and report.updated == 1
        assert db.session.scalar(select(Account.state).where(
            Account.identifier == "l.durand")) == AccountState.provisional


def test_active_accounts_are_left_alone_and_thresholds_are_settings(app, issued, make):
    make.account(identifier="a.actif")
    app.config["ACTIVATION_REMINDER_DAYS"] = 80
    try:
        assert run(app, 20)["reminded"] == 1
    finally:
        app.config["ACTIVATION_REMINDER_DAYS"] = 30
    run(app, 500)
    assert state(app, "a.actif") == AccountState.active


def test_cli_lifecycle_run_json(settings, issued):
    summary = run_json(settings, "lifecycle", "run")
    assert {"reminded", "deactivated", "deleted"} <= set(summary)
