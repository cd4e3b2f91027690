"""The audit trail in the console (filters, pages, CSV export, never a secret), key
rotation and charter publication from the console, each one audited with its actor."""
from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent, CharterVersion, SigningKey

from ..support.admin import console_sign_in, make_staff, two_schools
from ..support.browser import csrf_token
from ..support.factories import CHARTER_TEXT


def add_events(app, n: int, **fields):
    with app.app_context():
        db.session.add_all([AuditEvent(**{"action": "login_failed", "target": f"p.test{i}",
                                          "details": {}, **fields}) for i in range(n)])
        db.session.commit()


def test_filter_and_page_through_the_trail(app, operator):
    add_events(app, 60)
    add_events(app, 2, action="credentials_issued", actor="cli", target="l.martin")
    page = operator.get("/admin/journal?action=login_failed")
    assert page.status_code == 200
    assert page.text.count("<code>login_failed</code>") == 50
    older = re.search(r'href="(/admin/journal\?[^"]*avant=[^"]+)"', page.text).group(1)
    rest = operator.get(html.unescape(older))
    assert rest.text.count("<code>login_failed</code>") == 10
    page = operator.get("/admin/journal?actor=cli&target=l.martin")
    assert page.text.count("<code>credentials_issued</code>") == 2
    assert "<code>login_failed</code>" not in page.text
    page = operator.get("/admin/journal?action=staff_*")  # prefix: the sign-in above
    assert "<code>staff_login</code>" in page.text and "<code>login_failed</code>" not in page.text


def test_the_date_filters_count_paris_days(app, operator):
    """The console shows moments in Paris: its day filters count Paris days too. 23:30 UTC
    on 4 December is 00:30 on the 5th in Paris (CET)."""
    from datetime import datetime, timezone

    add_events(app, 1, target="late.night", at=datetime(2026, 12, 4, 23, 30, tzinfo=timezone.utc))
    fifth = operator.get("/admin/journal?target=late.night&since=2026-12-05&until=2026-12-05")
    assert fifth.text.count("<code>login_failed</code>") == 1
    assert "05/12/2026 00:30:00" in fifth.text
    fourth = operator.get("/admin/journal?target=late.night&since=2026-12-04&until=2026-12-04")
    assert "<code>login_failed</code>" not in fourth.text


def test_bad_filters_are_explained(app, operator):
    page = operator.get("/admin/journal?since=2026-03-10&until=2026-03-01")
    assert page.status_code == 400
    assert "La date de fin précède la date de début." in html.unescape(page.text)
    assert operator.get("/admin/journal?since=hier").status_code == 400


def test_csv_export_is_filtered_quoted_and_itself_audited(app, operator):
    add_events(app, 3)
    add_events(app, 1, action="login_failed", target="=HYPERLINK(\"http://evil\")")
    response = operator.get("/admin/journal.csv?action=login_failed")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["id", "at", "action", "actor", "target", "ip", "details"]
    assert len(rows) == 5 and {r[2] for r in rows[1:]} == {"login_failed"}
    assert rows[-1][4].startswith("'=")  # no formula for a spreadsheet to run
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit_exported"))
    assert event.actor == "staff:ops.alice" and event.details == {"filters": {"action": "login_failed"}}


def test_the_trail_never_holds_a_secret(app, operator, make):
    """Secrets made through the console (client secret, letters' passwords, TOTP) and
    passwords typed at sign-in are nowhere in the trail, nor in its export."""
    two_schools(app, make)
    operator.get("/admin/services/oidc/nouveau")
    page = operator.submit("/admin/services/oidc/nouveau", {
        "name": "ENT", "redirect_uris": "https://ent.example/cb", "scopes": ["openid"],
        "token_endpoint_auth_method": "client_secret_post", "consent": "ask",
        "id_token_alg": "RS256"})
    secret = re.search(r'<code class="secret">([^<]+)</code>', page.text).group(1)
    token = csrf_token(operator.get("/admin/").text)
    letters = operator.client.post("/admin/etablissements/0540042A/courriers",
                                   data={"csrf_token": token, "scope": "school"})
    assert letters.mimetype == "application/pdf"
    from pypdf import PdfReader

    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(letters.data)).pages)
    passwords = re.findall(r"\b[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}\b", pdf_text)
    assert len(passwords) == 8
    staff = make_staff(app, "ops.bob")
    from ..support.browser import Browser

    other = Browser(app.test_client())
    other.get("/admin/connexion")
    other.submit("/admin/connexion", {"identifier": "ops.bob", "password": "Wrong-Secret-42!"})
    console_sign_in(other, staff)
    with app.app_context():
        trail = json.dumps([[e.action, e.actor, e.target, e.details]
                            for e in db.session.scalars(select(AuditEvent))], ensure_ascii=False)
    export = operator.get("/admin/journal.csv").data.decode("utf-8-sig")
    for value in [secret, staff.password, "Wrong-Secret-42!", staff.secret,
                  *staff.recovery_codes, *passwords]:
        assert value not in trail and value not in export
    assert "oidc_client_registered" in trail and "credentials_issued" in trail


def _oidc_kids(app, state=None) -> set:
    with app.app_context():
        query = select(SigningKey.kid).where(SigningKey.purpose == "oidc")
        if state:
            query = query.where(SigningKey.state == state)
        return set(db.session.scalars(query))


def test_rotate_signing_keys_from_the_console(app, operator, keys_restored):
    before = _oidc_kids(app, "active")  # the session's keys come back afterwards
    page = operator.get("/admin/cles")
    assert all(kid in page.text for kid in before)
    page = operator.submit("/admin/cles/rotation", {})
    after = _oidc_kids(app, "active")
    assert after and not after & before
    assert all(kid in page.text for kid in after) and "Nouvelles clés actives" in page.text
    assert _oidc_kids(app) >= before  # kept for the grace period
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signing_keys_rotated"))
    assert event.actor == "staff:ops.alice" and sorted(event.details["new"]) == sorted(after)


def publish(browser, data: bytes, name: str = "general-2026-09.md", **fields):
    token = csrf_token(browser.get("/admin/chartes").text)
    return browser.follow(browser.client.post("/admin/chartes", data={
        "csrf_token": token, "text_file": (io.BytesIO(data), name), "audience": "",
        "version": "", **fields}, content_type="multipart/form-data"))


def test_publish_a_charter_version_from_the_console(app, operator):
    page = publish(operator, CHARTER_TEXT.encode())
    assert page.status_code == 200 and "Version 2026-09 publiée" in html.unescape(page.text)
    with app.app_context():
        row = db.session.scalar(select(CharterVersion))
        assert row.version == "2026-09" and row.source_path == "console:general-2026-09.md"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "charter_published"))
        assert event.actor == "staff:ops.alice"
    assert "(en vigueur)" in page.text
    # The same version with other words is refused: families accepted the first text.
    page = publish(operator, (CHARTER_TEXT + "\nUne phrase ajoutée.\n").encode())
    assert page.status_code == 400 and "already published" in page.text


@pytest.mark.parametrize("data, reason", [
    (b"\xff\xfe\xfa not utf-8", "not UTF-8"),
    (b"# Titre seul\n", "has no text"),
])
def test_a_bad_charter_file_is_refused_with_the_reason(app, operator, data, reason):
    page = publish(operator, data)
    assert page.status_code == 400 and "Publication refusée" in html.unescape(page.text)
    assert reason in page.text and "/tmp" not in page.text
    with app.app_context():
        assert db.session.scalar(select(CharterVersion)) is None
