"""School staff in the console: roster upload and its report (a file that is not a roster
is refused whole, with the reason), letters as PDF (school, class, one account), account
search and state (locked from the throttle counters), unlock, reactivation with a new
deadline, resend of the activation email."""
from __future__ import annotations

import html
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from idp import models
from idp.config import PROJECT_ROOT
from idp.db import db
from idp.extensions import throttle
from idp.models import Account, AccountState, AuditEvent, OutboxMessage, RosterImport

from ..support.admin import SCHOOL_A, console_sign_in, make_staff, two_schools
from ..support.browser import csrf_token

SAMPLE = (PROJECT_ROOT / "config" / "samples" / "roster_sample.csv").read_bytes()
BASE = f"/admin/etablissements/{SCHOOL_A}"


@pytest.fixture
def staff_browser(app, browser, make):
    make.school(SCHOOL_A)
    console_sign_in(browser, make_staff(app, "ecole.dan", role="school_staff", schools=[SCHOOL_A]))
    return browser


@pytest.fixture
def ids(app, make, staff_browser):
    return two_schools(app, make)


def unescaped(page) -> str:
    return html.unescape(page.text)


def upload(browser, data: bytes, name: str = "eleves.csv", dry_run: bool = False):
    token = csrf_token(browser.get(BASE).text)
    fields = {"csrf_token": token, "roster": (io.BytesIO(data), name)}
    if dry_run:
        fields["dry_run"] = "y"
    return browser.follow(browser.client.post(f"{BASE}/import", data=fields,
                                              content_type="multipart/form-data"))


def post(browser, url: str, data: dict | None = None):
    token = csrf_token(browser.get(BASE).text)
    return browser.client.post(url, data={"csrf_token": token, **(data or {})})


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def account(app, identifier: str) -> Account:
    with app.app_context():
        return db.session.scalar(select(Account).where(Account.identifier == identifier))


def pdf_pages(response) -> list[str]:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    return [p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages]


def test_upload_a_roster_and_read_its_report(app, staff_browser):
    page = upload(staff_browser, SAMPLE)
    assert page.status_code == 200 and "/imports/" in page.request.path
    text = unescaped(page)
    assert "Rapport d'import" in text and "eleves.csv" in text
    with app.app_context():
        row = db.session.scalar(select(RosterImport))
        assert row.actor == "staff:ecole.dan" and row.report["accounts_created"] == 8
    assert count(app, Account) == 8
    school = staff_browser.get(BASE)
    assert "eleves.csv" in school.text  # listed among the last imports


def test_dry_run_reports_and_writes_nothing(app, staff_browser):
    page = upload(staff_browser, SAMPLE, dry_run=True)
    assert page.status_code == 200 and "rien n'a été enregistré" in unescaped(page)
    assert count(app, Account) == 0 and count(app, RosterImport) == 0


@pytest.mark.parametrize("data, reason", [
    (b"nom,prix\npomme,3\npoire,4\n", "Colonnes manquantes"),
    (b"PK\x03\x04 a spreadsheet", "classeur"),
    (b"", "Le fichier est vide"),
    (b"\x00\x01\x02binary", "pas un fichier texte CSV"),
])
def test_a_file_that_is_not_a_roster_is_refused_with_the_reason(app, staff_browser, data, reason):
    page = upload(staff_browser, data)
    assert page.status_code == 400 and page.request.path == f"{BASE}/import"
    text = unescaped(page)
    assert reason in text and 'aria-invalid="true"' in text
    assert count(app, Account) == 0 and count(app, RosterImport) == 0
    with app.app_context():
        assert not db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster_import"))


def test_no_file_is_a_clear_error(app, staff_browser):
    token = csrf_token(staff_browser.get(BASE).text)
    page = staff_browser.client.post(f"{BASE}/import", data={"csrf_token": token},
                                     content_type="multipart/form-data")
    assert page.status_code == 400 and "Choisissez le fichier" in unescaped(page)


def test_bad_rows_are_listed_in_the_report(app, staff_browser):
    bad = SAMPLE + "9999;Sans;Date;pas une date;5e C;;;;;;;;\n".encode()
    page = upload(staff_browser, bad)
    text = unescaped(page)
    assert page.status_code == 200 and "Lignes refusées et pourquoi" in text
    assert count(app, RosterImport) == 1


def test_letters_for_the_school_a_class_and_one_account(app, ids, staff_browser):
    assert len(pdf_pages(post(staff_browser, f"{BASE}/courriers", {"scope": "school"}))) == 8
    pages = pdf_pages(post(staff_browser, f"{BASE}/courriers",
                           {"scope": "class", "class_name": "4e B"}))
    assert len(pages) == 3 and any("l.martin" in p for p in pages)
    pages = pdf_pages(post(staff_browser, f"{BASE}/courriers",
                           {"scope": "account", "account": "S.Martin "}))
    assert len(pages) == 1 and "s.martin" in pages[0]
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "credentials_issued")).all()
    assert len(events) == 12 and {e.actor for e in events} == {"staff:ecole.dan"}


def test_letters_bad_input(app, ids, staff_browser):
    page = post(staff_browser, f"{BASE}/courriers", {"scope": "class", "class_name": ""})
    assert page.status_code == 400 and "Choisissez une classe" in unescaped(page)
    page = post(staff_browser, f"{BASE}/courriers", {"scope": "account", "account": ""})
    assert page.status_code == 400 and "Indiquez l'identifiant" in unescaped(page)
    with app.app_context():
        db.session.execute(models.Account.__table__.update().values(state="active"))
        db.session.commit()
    page = post(staff_browser, f"{BASE}/courriers", {"scope": "school"})
    assert page.status_code == 400 and "aucun courrier" in unescaped(page)


def test_search_and_locked_state_from_the_throttle_then_unlock(app, ids, staff_browser):
    with app.test_request_context():
        guard = throttle()
        for _ in range(app.config["LOCKOUT_ACCOUNT_THRESHOLD"]):
            guard.record_failure(f"198.51.100.{_}", "l.martin")
    results = staff_browser.get(f"{BASE}/comptes?q=Léa martin")
    assert "l.martin" in results.text and "verrouillé" in unescaped(results)
    assert "s.martin" not in results.text  # every word must match
    lea = ids["l.martin"]
    page = staff_browser.get(f"{BASE}/comptes/{lea}")
    assert "trop d'échecs de connexion" in unescaped(page)
    page = staff_browser.follow(post(staff_browser, f"{BASE}/comptes/{lea}/deverrouiller"))
    assert "Compte déverrouillé" in unescaped(page)
    assert "verrouillé</strong>" not in page.text
    with app.test_request_context():
        assert not throttle().is_blocked("203.0.113.9", "l.martin")


def test_reactivate_a_deactivated_account_with_a_new_deadline(app, ids, staff_browser):
    hugo = ids["h.martin"]
    with app.app_context():
        row = db.session.get(Account, hugo)
        row.state, row.deactivated_at = AccountState.deactivated, datetime.now(timezone.utc)
        db.session.commit()
    page = staff_browser.get(f"{BASE}/comptes/{hugo}")
    assert "désactivé" in unescaped(page) and "Réactiver le compte" in unescaped(page)
    url = f"{BASE}/comptes/{hugo}/reactiver"
    for bad in ("2001-01-01", (date.today() + timedelta(days=800)).isoformat(), "pas une date"):
        page = post(staff_browser, url, {"deadline": bad})
        assert page.status_code == 400 and 'aria-invalid="true"' in page.text, bad
        assert account(app, "h.martin").state == AccountState.deactivated
    deadline = date.today() + timedelta(days=30)
    page = staff_browser.follow(post(staff_browser, url, {"deadline": deadline.isoformat()}))
    assert "Compte réactivé" in unescaped(page)
    row = account(app, "h.martin")
    assert row.state == AccountState.provisional and row.deactivated_at is None
    # The end of that day in Paris, the day the console shows.
    from idp.local_time import to_paris
    assert to_paris(row.activation_deadline).replace(tzinfo=None) == datetime.combine(
        deadline, datetime.max.time()).replace(microsecond=0)
    shown = staff_browser.get(f"{BASE}/comptes/{hugo}")
    assert deadline.strftime("%d/%m/%Y") in shown.text
    # Not deactivated any more: a second reactivation is refused with the reason.
    page = post(staff_browser, url, {"deadline": deadline.isoformat()})
    assert page.status_code == 400 and "pas désactivé" in unescaped(page), unescaped(page)[-1500:]


def test_resend_the_activation_email(app, ids, staff_browser):
    sophie = ids["s.martin"]
    url = f"{BASE}/comptes/{sophie}/renvoyer-activation"
    page = staff_browser.follow(post(staff_browser, url))
    assert "attend pas la confirmation" in unescaped(page) and count(app, OutboxMessage) == 0
    with app.app_context():
        row = db.session.get(Account, sophie)
        row.state, row.provisional_password_hash = AccountState.pending_email, None
        db.session.commit()
    page = staff_browser.follow(post(staff_browser, url))
    assert "Message d'activation renvoyé à sophie.martin@example.org" in unescaped(page)
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        assert message.recipient == "sophie.martin@example.org" and "/activation" in message.text
    page = staff_browser.follow(post(staff_browser, url))
    assert "attendez une minute" in unescaped(page) and count(app, OutboxMessage) == 1


def test_reissue_credentials_for_one_account(app, ids, staff_browser, browser):
    julien = ids["j.martin"]
    pages = pdf_pages(post(staff_browser, f"{BASE}/comptes/{julien}/courrier", {"confirme": "oui"}))
    assert len(pages) == 1 and "j.martin" in pages[0]
    with app.app_context():
        assert db.session.get(Account, julien).provisional_password_hash


@pytest.mark.skipif(not hasattr(models, "DeclinedGuardianLink"),
                    reason="self-registration (issue 5) not merged yet")
def test_declined_links_are_shown_to_the_school(app, ids, staff_browser):
    from idp.models import PupilRecord, RepresentativeRecord, School

    with app.app_context():
        pupil = db.session.scalar(select(PupilRecord).where(PupilRecord.first_name == "Hugo"))
        rep = db.session.scalar(select(RepresentativeRecord).where(
            RepresentativeRecord.first_name == "Julien"))
        school = db.session.scalar(select(School).where(School.uai == SCHOOL_A))
        db.session.add(models.DeclinedGuardianLink(representative_record_id=rep.id,
                                                   pupil_record_id=pupil.id,
                                                   school_id=school.id))
        db.session.commit()
    expected = "Julien Martin a déclaré ne pas être représentant légal de Hugo Martin"
    assert expected in unescaped(staff_browser.get(BASE))
    assert expected in unescaped(staff_browser.get(f"{BASE}/comptes/{ids['h.martin']}"))


def test_unlock_clears_every_counter_that_blocks_the_account(app, ids, staff_browser):
    """Issue 21, point 1: five failures from one address block the (IP, account) counter
    only; the console shows it, and "Déverrouiller" clears it (not only the account-wide
    one), so the family at that address may sign in again."""
    from ..support.browser import Browser

    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    family = Browser(client)
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        family.sign_in("l.martin", "Wrong-Pass-2026")
    lea = ids["l.martin"]
    page = unescaped(staff_browser.get(f"{BASE}/comptes/{lea}"))
    assert "connexion suspendue depuis l'adresse 203.0.113.7" in page
    assert "5 échecs" in page and "verrouillé</strong>" in page
    page = staff_browser.follow(post(staff_browser, f"{BASE}/comptes/{lea}/deverrouiller"))
    assert "Compte déverrouillé" in unescaped(page)
    assert "connexion suspendue" not in unescaped(page)
    with app.test_request_context():
        assert not throttle().is_blocked("203.0.113.7", "l.martin")
        assert throttle().account_blocks("l.martin") == []


def test_an_ipv6_block_is_shown_as_its_64_and_unlocked(app, ids, staff_browser):
    """The (IP, account) counter of an IPv6 client keys on its /64 (it owns the network):
    the console names the network ("depuis le réseau", not "l'adresse"), and "Déverrouiller"
    clears it."""
    from ..support.browser import browser_from

    for n in range(app.config["LOCKOUT_THRESHOLD"]):
        browser_from(app, f"2001:db8:7:8::{n + 1}").sign_in("l.martin", "Wrong-Pass-2026")
    lea = ids["l.martin"]
    page = unescaped(staff_browser.get(f"{BASE}/comptes/{lea}"))
    assert "connexion suspendue depuis le réseau 2001:db8:7:8::/64" in page
    assert "depuis l'adresse 2001:db8" not in page
    assert "5 échecs" in page
    page = staff_browser.follow(post(staff_browser, f"{BASE}/comptes/{lea}/deverrouiller"))
    assert "connexion suspendue" not in unescaped(page)
    with app.test_request_context():
        assert not throttle().is_blocked("2001:db8:7:8::/64", "l.martin")
        assert throttle().account_blocks("l.martin") == []
