"""The school's dashboard (issue 20, point 4): per school and class, issued / activated /
pending email / never activated / deactivated, the activation rate and the days left; the
list behind each figure; search by name, pupil, class, state, email, origin; CSV export;
bulk "Nouveau courrier" for a class's never-activated accounts after a confirmation that
says how many. Bad input: another school, another school's class, an empty class, an
unconfirmed or stale confirmation: a French message or 404, nothing changed."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from idp.db import db
from idp.models import Account, AccountState, AuditEvent, PupilRecord, utcnow

from ..support.admin import SCHOOL_A, SCHOOL_B, console_sign_in, make_staff, two_schools
from ..support.browser import csrf_token

BASE = f"/admin/etablissements/{SCHOOL_A}"


@pytest.fixture
def staff_browser(app, browser, make):
    make.school(SCHOOL_A)
    console_sign_in(browser, make_staff(app, "ecole.dan", role="school_staff",
                                        schools=[SCHOOL_A]))
    return browser


@pytest.fixture
def ids(app, make, staff_browser):
    """School A: 4 pupils (4e B, 6e A, 3e A, 5e C) and 4 representatives (the Martins
    have two children, in 4e B and 6e A); then some accounts move on."""
    ids = two_schools(app, make)
    deadline = utcnow() + timedelta(days=10) - timedelta(hours=1)
    with app.app_context():
        db.session.execute(update(Account).values(activation_deadline=deadline,
                                                  issued_at=utcnow() - timedelta(days=30)))
        # Aminata N'Diaye registered by SMS (J4) before her letter: no letter issued.
        db.session.execute(update(Account).where(Account.identifier == "a.ndiaye")
                           .values(state=AccountState.active, issued_at=None))
        db.session.execute(update(Account).where(Account.identifier == "l.martin")
                           .values(state=AccountState.active))
        db.session.execute(update(Account).where(Account.identifier == "s.martin")
                           .values(state=AccountState.pending_email,
                                   email="sophie.martin@example.org"))
        db.session.execute(update(Account).where(Account.identifier == "c.legallherve")
                           .values(state=AccountState.deactivated))
        db.session.commit()
    return ids


def text(page) -> str:
    return html.unescape(page.text)


def row(page, label: str) -> list[str]:
    """The cells of the dashboard row headed `label`, as text."""
    match = re.search(r"<tr>\s*<th scope=\"row\">" + re.escape(label) + r"</th>(.*?)</tr>",
                      page.text, re.S)
    assert match, label
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td>(.*?)</td>", match.group(1), re.S)]


def identifiers(page) -> set[str]:
    return set(re.findall(r"<code>([^<]+)</code>", page.text))


def test_figures_per_class_and_for_the_school(app, ids, staff_browser):
    accounts = {a for a in ids if a not in ("p.durand", "m.durand")}
    assert "l.martin" in accounts and "c.legallherve" in accounts, ids
    page = staff_browser.get(f"{BASE}/tableau")
    assert page.status_code == 200
    # issued, activated, pending, never, deactivated, rate, days left, letters
    assert row(page, "4e B")[:7] == ["3", "1", "1", "1", "0", "33,3 %", "10 jours"]
    assert row(page, "3e A")[:7] == ["2", "0", "0", "1", "1", "0,0 %", "10 jours"]
    assert row(page, "Établissement")[:7] == ["8", "2", "1", "4", "1", "25,0 %", "10 jours"]
    assert "Paul" not in page.text  # school B's family


def test_the_list_behind_a_figure(app, ids, staff_browser):
    page = staff_browser.get(f"{BASE}/tableau/liste?classe=4e+B&etat=never_activated")
    assert identifiers(page) == {"j.martin"}
    page = staff_browser.get(f"{BASE}/tableau/liste?classe=6e+A")
    assert identifiers(page) == {"h.martin", "s.martin", "j.martin"}
    page = staff_browser.get(f"{BASE}/tableau/liste?etat=deactivated")
    assert identifiers(page) == {"c.legallherve"}


def test_search_by_name_pupil_class_state_email_and_origin(app, ids, staff_browser):
    get = lambda q: identifiers(staff_browser.get(f"{BASE}/tableau/liste?{q}"))  # noqa: E731
    assert get("q=martin+sophie") == {"s.martin"}
    assert get("eleve=Moussa") == {"m.ndiaye", "a.ndiaye"}
    assert get("email=SOPHIE.martin") == {"s.martin"}
    assert get("origine=sms") == {"a.ndiaye"} and get("origine=franceconnect") == set()
    assert get("origine=letter") == get("") - {"a.ndiaye"}
    assert get("profil=pupil&etat=activated") == {"l.martin"}
    assert get("q=durand") == set()  # school B's family is not found from school A
    page = staff_browser.get(f"{BASE}/tableau/liste?q=personne")
    assert "Aucun compte de l'établissement ne correspond" in text(page)


def test_the_pupil_search_finds_the_pupil_and_their_representatives(app, ids, staff_browser):
    found = identifiers(staff_browser.get(f"{BASE}/tableau/liste?eleve=Hugo"))
    assert found == {"h.martin", "s.martin", "j.martin"}


def test_csv_export_of_a_list(app, ids, staff_browser):
    response = staff_browser.client.get(f"{BASE}/tableau/liste?classe=4e+B&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["identifiant", "nom", "prenom", "profil", "etat"]
    assert {r[0] for r in rows[1:]} == {"l.martin", "s.martin", "j.martin"}
    sophie = next(r for r in rows if r[0] == "s.martin")
    assert sophie[4] == "en attente de l'email" and sophie[5] == "courrier"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "staff_list_exported"))
    assert event.actor == "staff:ecole.dan" and event.details["rows"] == 3


def test_csv_cells_a_spreadsheet_would_run_are_plain_text(app, ids, staff_browser):
    """Class names come from the school's import like names do: a class, a name or a
    pupil starting with '=' is exported as text (CSV injection), not as a formula."""
    with app.app_context():
        db.session.execute(update(PupilRecord).where(PupilRecord.class_name == "4e B")
                           .values(class_name='=HYPERLINK("//evil.fr")'))
        db.session.commit()
    response = staff_browser.client.get(f"{BASE}/tableau/liste?format=csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    for r in rows[1:]:
        for name in ("nom", "prenom", "email", "classes", "eleves"):
            assert r[header.index(name)][:1] not in ("=", "+", "-", "@"), r
    assert any(r[header.index("classes")].startswith("'=HYPERLINK") for r in rows[1:])


def test_bulk_letters_for_the_never_activated_of_a_class(app, ids, staff_browser):
    page = staff_browser.get(f"{BASE}/tableau/courriers?classe=4e+B")
    assert page.status_code == 200
    assert "Ce nouveau courrier concerne 1 compte jamais activé" in text(page)
    refused = staff_browser.submit(f"{BASE}/tableau/courriers",
                                   {"classe": "4e B", "nombre": "1"})
    assert "Cochez la case" in text(refused)
    page = staff_browser.get(f"{BASE}/tableau/courriers?classe=6e+A")
    assert "Ces nouveaux courriers concernent 2 comptes jamais activés" in text(page)
    response = staff_browser.client.post(f"{BASE}/tableau/courriers", data={
        "csrf_token": csrf_token(page.text), "classe": "6e A", "nombre": "2",
        "confirme": "oui"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages]
    assert len(pages) == 2
    with app.app_context():
        issued = set(db.session.scalars(select(AuditEvent.target).where(
            AuditEvent.action == "credentials_issued")))
        assert issued == {"h.martin", "j.martin"}
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "staff_bulk_letters")).details["letters"] == 2


def test_a_stale_confirmation_says_the_new_number_and_issues_nothing(app, ids,
                                                                     staff_browser):
    page = staff_browser.get(f"{BASE}/tableau/courriers?classe=6e+A")
    with app.app_context():
        db.session.execute(update(Account).where(Account.identifier == "h.martin")
                           .values(state=AccountState.active))
        db.session.commit()
    after = staff_browser.submit(f"{BASE}/tableau/courriers",
                                 {"classe": "6e A", "nombre": "2", "confirme": "oui"},
                                 page_html=page.text)
    assert "concerne maintenant 1 compte" in text(after)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "credentials_issued")) is None


def test_bulk_letters_on_a_class_without_never_activated_accounts(app, ids, staff_browser):
    with app.app_context():
        db.session.execute(update(Account).where(Account.state == AccountState.provisional)
                           .values(state=AccountState.active))
        db.session.commit()
    page = staff_browser.get(f"{BASE}/tableau/courriers?classe=5e+C")
    assert page.status_code == 400
    assert "Aucun compte jamais activé dans la classe 5e C" in text(page)
    after = staff_browser.submit(f"{BASE}/tableau/courriers",
                                 {"classe": "5e C", "nombre": "0", "confirme": "oui"},
                                 page_html=staff_browser.get(f"{BASE}/tableau").text)
    assert "aucun courrier à imprimer" in text(after)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "credentials_issued")) is None


def test_another_school_and_its_classes_do_not_exist(app, ids, staff_browser):
    assert staff_browser.get(f"/admin/etablissements/{SCHOOL_B}/tableau").status_code == 404
    assert staff_browser.get(
        f"/admin/etablissements/{SCHOOL_B}/tableau/liste?format=csv").status_code == 404
    assert staff_browser.get(f"{BASE}/tableau/liste?classe=5e+D").status_code == 404
    assert staff_browser.get(f"{BASE}/tableau/courriers?classe=5e+D").status_code == 404
    response = staff_browser.client.post(f"{BASE}/tableau/courriers", data={
        "csrf_token": csrf_token(staff_browser.get(f"{BASE}/tableau").text),
        "classe": "5e D", "nombre": "1", "confirme": "oui"})
    assert response.status_code == 404


def test_an_auditor_reads_but_cannot_print(app, ids):
    from ..support.browser import Browser
    browser = Browser(app.test_client())
    console_sign_in(browser, make_staff(app, "audit.eve", role="auditor"))
    assert browser.get(f"{BASE}/tableau").status_code == 200
    assert browser.get(f"{BASE}/tableau/courriers?classe=6e+A").status_code == 403


def test_an_account_made_by_franceconnect_has_that_origin(app, ids, staff_browser):
    from idp.models import FranceConnectLink

    with app.app_context():
        db.session.add(FranceConnectLink(account_id=ids["a.ndiaye"], sub="fc-sub-1",
                                         given_name="Aminata", family_name="N'Diaye",
                                         created_account=True))
        # Linked later to an account the school made: still a letter's.
        db.session.add(FranceConnectLink(account_id=ids["s.martin"], sub="fc-sub-2",
                                         given_name="Sophie", family_name="Martin",
                                         created_account=False))
        db.session.commit()
    get = lambda q: identifiers(staff_browser.get(f"{BASE}/tableau/liste?{q}"))  # noqa: E731
    assert get("origine=franceconnect") == {"a.ndiaye"}
    assert get("origine=sms") == set() and "s.martin" in get("origine=letter")
    response = staff_browser.client.get(f"{BASE}/tableau/liste?eleve=Moussa&format=csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert next(r for r in rows if r[0] == "a.ndiaye")[5] == "FranceConnect"
