"""Roles: operators everything, auditors read only (every POST refused), school staff only
their schools: another school's id in a URL or a form answers 404 like a missing one."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.db import db
from idp.models import AuditEvent, OIDCClient, RosterImport, School

from ..support.admin import (ROSTER_B, SCHOOL_A, SCHOOL_B, console_sign_in, make_staff,
                             two_schools)
from ..support.browser import csrf_token

OPERATOR_PAGES = ["/admin/services", "/admin/services/oidc/nouveau",
                  "/admin/services/saml/nouveau", "/admin/cles", "/admin/chartes",
                  "/admin/journal", "/admin/journal.csv"]


@pytest.fixture
def ids(app, make):
    return two_schools(app, make)


def count(app, model, **where) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db.session.scalar(stmt)


def post(browser, url: str, data: dict | None = None, files: dict | None = None):
    """A POST with a valid CSRF token (from the console page in hand), not followed."""
    token = csrf_token(browser.get("/admin/").text)
    payload = {"csrf_token": token, **(data or {}), **(files or {})}
    return browser.client.post(url, data=payload, content_type="multipart/form-data")


def test_operator_reaches_every_area(app, browser, ids):
    console_sign_in(browser, make_staff(app, "ops.alice"))
    for url in OPERATOR_PAGES + ["/admin/etablissements", f"/admin/etablissements/{SCHOOL_A}",
                                 f"/admin/etablissements/{SCHOOL_B}",
                                 f"/admin/etablissements/{SCHOOL_B}/comptes?q=durand",
                                 f"/admin/etablissements/{SCHOOL_B}/comptes/{ids['p.durand']}"]:
        assert browser.get(url).status_code == 200, url
    assert "Paul" in browser.get(f"/admin/etablissements/{SCHOOL_B}/comptes?q=durand").text


def test_reading_a_familys_account_page_is_audited(app, browser, ids):
    console_sign_in(browser, make_staff(app, "audit.denis", role="auditor"))
    assert browser.get(f"/admin/etablissements/{SCHOOL_A}/comptes/{ids['l.martin']}") \
        .status_code == 200
    with app.app_context():
        seen = db.session.execute(select(AuditEvent.actor, AuditEvent.target).where(
            AuditEvent.action == "staff_account_viewed")).all()
    assert seen == [("staff:audit.denis", "l.martin")]


def test_auditor_reads_everything_and_changes_nothing(app, browser, ids):
    console_sign_in(browser, make_staff(app, "audit.carole", role="auditor"))
    for url in OPERATOR_PAGES + [f"/admin/etablissements/{SCHOOL_A}",
                                 f"/admin/etablissements/{SCHOOL_A}/comptes/{ids['l.martin']}"]:
        assert browser.get(url).status_code == 200, url
    keys_page = browser.get("/admin/cles").text
    assert "/admin/cles/rotation" not in keys_page  # no form offered
    account_page = browser.get(f"/admin/etablissements/{SCHOOL_A}/comptes/{ids['l.martin']}").text
    assert "deverrouiller" not in account_page
    audit_before = count(app, AuditEvent)
    attempts = [
        ("/admin/cles/rotation", {}),
        ("/admin/services/oidc/nouveau", {"name": "Intrus", "redirect_uris": "https://x.example/cb",
                                          "scopes": "openid", "token_endpoint_auth_method": "none",
                                          "consent": "ask", "id_token_alg": "RS256"}),
        ("/admin/chartes", {}),
        (f"/admin/etablissements/{SCHOOL_A}/courriers", {"scope": "school"}),
        (f"/admin/etablissements/{SCHOOL_A}/comptes/{ids['l.martin']}/deverrouiller", {}),
        (f"/admin/etablissements/{SCHOOL_A}/comptes/{ids['l.martin']}/reactiver",
         {"deadline": "2030-01-01"}),
        (f"/admin/etablissements/{SCHOOL_A}/comptes/{ids['l.martin']}/courrier", {}),
    ]
    for url, data in attempts:
        response = post(browser, url, data)
        assert response.status_code == 403, url
        assert "auditeur" in response.text
    assert count(app, OIDCClient) == 0
    assert count(app, AuditEvent) == audit_before  # not even a letter was issued


def test_school_staff_see_only_their_school(app, browser, ids):
    console_sign_in(browser, make_staff(app, "ecole.dan", role="school_staff", schools=[SCHOOL_A]))
    listing = browser.get("/admin/etablissements").text
    assert SCHOOL_A in listing and SCHOOL_B not in listing
    assert browser.get(f"/admin/etablissements/{SCHOOL_A}").status_code == 200
    missing = browser.get("/admin/etablissements/0000000X")
    other = browser.get(f"/admin/etablissements/{SCHOOL_B}")
    assert missing.status_code == other.status_code == 404
    # Nothing tells that school B exists (the page differs only by the URL it echoes).
    assert other.text.replace(SCHOOL_B, "?") == missing.text.replace("0000000X", "?")
    assert browser.get(f"/admin/etablissements?uai={SCHOOL_B}").status_code == 404
    durand = ids["p.durand"]
    for url in (f"/admin/etablissements/{SCHOOL_A}/comptes/{durand}",
                f"/admin/etablissements/{SCHOOL_B}/comptes/{durand}",
                f"/admin/etablissements/{SCHOOL_B}/comptes?q=durand",
                f"/admin/etablissements/{SCHOOL_A}/comptes/999999"):
        assert browser.get(url).status_code == 404, url
    search = browser.get(f"/admin/etablissements/{SCHOOL_A}/comptes?q=durand")
    assert search.status_code == 200 and "p.durand" not in search.text
    with app.app_context():
        b_import = db.session.scalar(select(RosterImport.id).join(
            School, School.id == RosterImport.school_id).where(School.uai == SCHOOL_B))
    assert browser.get(f"/admin/etablissements/{SCHOOL_A}/imports/{b_import}").status_code == 404
    for url in OPERATOR_PAGES:
        assert browser.get(url).status_code == 403, url


def test_school_staff_cannot_act_on_another_schools_ids(app, browser, ids):
    console_sign_in(browser, make_staff(app, "ecole.dan", role="school_staff", schools=[SCHOOL_A]))
    durand = ids["p.durand"]
    audit_before = count(app, AuditEvent)
    imports_before = count(app, RosterImport)
    for action in ("deverrouiller", "courrier", "renvoyer-activation"):
        for uai in (SCHOOL_A, SCHOOL_B):
            url = f"/admin/etablissements/{uai}/comptes/{durand}/{action}"
            assert post(browser, url).status_code == 404, url
    assert post(browser, f"/admin/etablissements/{SCHOOL_A}/comptes/{durand}/reactiver",
                {"deadline": "2030-01-01"}).status_code == 404
    # Ids typed into the forms of their own school's page.
    letters = f"/admin/etablissements/{SCHOOL_A}/courriers"
    assert post(browser, letters, {"scope": "account", "account": "p.durand"}).status_code == 404
    assert post(browser, letters, {"scope": "class", "class_name": "5e D"}).status_code == 404
    import io
    response = post(browser, f"/admin/etablissements/{SCHOOL_B}/import",
                    files={"roster": (io.BytesIO(ROSTER_B), "b.csv")})
    assert response.status_code == 404
    assert count(app, AuditEvent) == audit_before
    assert count(app, RosterImport) == imports_before
    assert post(browser, "/admin/cles/rotation").status_code == 403


def test_school_staff_help_families_of_their_school(app, browser, ids):
    console_sign_in(browser, make_staff(app, "ecole.dan", role="school_staff", schools=[SCHOOL_A]))
    page = browser.get(f"/admin/etablissements/{SCHOOL_A}/comptes?q=martin")
    assert page.status_code == 200
    assert all(i in page.text for i in ("s.martin", "l.martin", "h.martin", "j.martin"))
    lea = ids["l.martin"]
    page = browser.get(f"/admin/etablissements/{SCHOOL_A}/comptes/{lea}")
    assert "provisoire" in page.text and "Sophie Martin" in page.text  # state and guardians
    response = post(browser, f"/admin/etablissements/{SCHOOL_A}/comptes/{lea}/deverrouiller")
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account_unlocked"))
    assert event.actor == "staff:ecole.dan" and event.target == "l.martin" and event.ip
