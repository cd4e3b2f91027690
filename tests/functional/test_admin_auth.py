"""Console sign-in: password then TOTP before any page; enrolment with a QR code at the
first sign-in; recovery codes once each; the family throttle's rules; CSRF on; sessions
apart from families', shorter, ended by disabling the staff account."""
from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from idp.admin.staff import create_staff
from idp.db import db
from idp.models import AuditEvent, StaffAccount

from ..support.admin import STAFF_PASSWORD, console_sign_in, make_staff

CONSOLE_PAGES = ["/admin/", "/admin/services", "/admin/cles", "/admin/chartes",
                 "/admin/journal", "/admin/journal.csv", "/admin/etablissements",
                 "/admin/services/oidc/nouveau"]


def actions(app, **where) -> list[str]:
    with app.app_context():
        stmt = select(AuditEvent.action).order_by(AuditEvent.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        return list(db.session.scalars(stmt))


def test_no_console_page_without_a_session(client):
    for url in CONSOLE_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.endswith("/admin/connexion"), url


def test_password_alone_opens_nothing(app, browser):
    staff = make_staff(app, "ops.alice")
    browser.get("/admin/connexion")
    page = browser.submit("/admin/connexion", {"identifier": staff.identifier,
                                               "password": staff.password})
    assert page.request.path == "/admin/connexion/code"
    assert "Code de vérification" in page.text
    for url in CONSOLE_PAGES:
        assert browser.get(url).request.path == "/admin/connexion", url
    # The code page itself asks again (the password step was remembered, not the session).
    page = browser.submit("/admin/connexion/code", {"code": "000000"})
    assert page.status_code == 400 and "Code incorrect" in page.text


def test_password_then_code_opens_the_console_with_a_new_session_id(app, browser):
    staff = make_staff(app, "ops.alice")
    browser.get("/admin/connexion")
    before = browser.client.get_cookie("idp_session").value
    page = console_sign_in(browser, staff)
    assert page.status_code == 200 and page.request.path == "/admin/"
    assert "Console d'administration" in page.text and "ops.alice" in page.text
    assert browser.client.get_cookie("idp_session").value != before  # no fixation
    assert browser.get("/admin/services").status_code == 200
    assert "staff_login" in actions(app, actor="staff:ops.alice")


def test_wrong_password_and_unknown_identifier_look_the_same(app, browser):
    make_staff(app, "ops.alice")
    browser.get("/admin/connexion")
    wrong = browser.submit("/admin/connexion", {"identifier": "ops.alice", "password": "Nope-12345678!"})
    unknown = browser.submit("/admin/connexion", {"identifier": "ops.nobody",
                                                  "password": "Nope-12345678!"}, page_html=wrong.text)
    assert wrong.status_code == unknown.status_code == 400
    assert "Identifiant ou mot de passe incorrect." in wrong.text
    assert "Identifiant ou mot de passe incorrect." in unknown.text
    assert 'value="Nope' not in wrong.text  # the password is never typed back
    assert actions(app, target="staff:ops.alice") == ["staff_created", "staff_login_failed"]


def test_the_same_throttle_locks_the_staff_account_after_failures(app, browser):
    staff = make_staff(app, "ops.alice")
    browser.get("/admin/connexion")
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        page = browser.submit("/admin/connexion", {"identifier": staff.identifier,
                                                   "password": "Wrong-password-1!"})
    # Now even the right password is refused, with the same message.
    page = browser.submit("/admin/connexion", {"identifier": staff.identifier,
                                               "password": staff.password})
    assert page.status_code == 400 and page.request.path == "/admin/connexion"
    assert "staff_login_throttled" in actions(app, target="staff:ops.alice")


def test_first_sign_in_enrols_totp_with_a_qr_code_and_shows_recovery_codes_once(app, browser):
    with app.app_context():
        create_staff(identifier="ecole.bob", password=STAFF_PASSWORD, role="operator")
        db.session.commit()
    browser.get("/admin/connexion")
    page = browser.submit("/admin/connexion", {"identifier": "ecole.bob", "password": STAFF_PASSWORD})
    assert page.request.path == "/admin/connexion/enrolement"
    # The QR code is inline SVG with no script in it (the page's only script is the
    # shared static/js/comfort.js, loaded by src).
    assert "<svg" in page.text and not re.search(r"<script(?![^>]*\bsrc=)", page.text)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text).group(1)
    # Not yet enrolled: the console stays closed, a wrong code is refused.
    assert browser.get("/admin/").request.path == "/admin/connexion"
    browser.get("/admin/connexion/enrolement")
    wrong = browser.submit("/admin/connexion/enrolement", {"code": "123456"})
    assert wrong.status_code == 400 and "ne correspond pas" in wrong.text
    done = browser.submit("/admin/connexion/enrolement", {"code": pyotp.TOTP(secret).now()},
                          page_html=wrong.text)
    codes = re.findall(r"<li><code>([a-z0-9-]{14})</code></li>", done.text)
    assert done.status_code == 200 and len(codes) == 10
    assert browser.get("/admin/").status_code == 200
    with app.app_context():
        row = db.session.scalar(select(StaffAccount).where(StaffAccount.identifier == "ecole.bob"))
        assert secret not in (row.totp_secret_sealed or "")  # sealed
        assert all(c not in str(row.recovery_code_hashes) for c in codes)  # hashed
    assert "staff_totp_enrolled" in actions(app, actor="staff:ecole.bob")


def test_a_recovery_code_works_once(app, browser, client):
    staff = make_staff(app, "ops.alice")
    code = staff.recovery_codes[0]
    assert console_sign_in(browser, staff, code=code.upper()).request.path == "/admin/"
    from ..support.browser import Browser

    other = Browser(app.test_client())
    page = console_sign_in(other, staff, code=code)
    assert page.status_code == 400 and page.request.path == "/admin/connexion/code"
    assert "staff_recovery_code_used" in actions(app, actor="staff:ops.alice")


def test_a_recovery_code_with_six_digits_works(app, browser):
    """One recovery code in twenty holds exactly six digits: it is not a TOTP code."""
    from idp.admin.staff import finish_enrolment
    from idp.db import db
    from idp.models import StaffAccount
    from sqlalchemy import select

    staff = make_staff(app, "ops.dora")
    code = "2a3b-4c5d-6e7f"
    with app.app_context():
        row = db.session.scalar(select(StaffAccount).where(
            StaffAccount.identifier == "ops.dora"))
        finish_enrolment(row, staff.secret, [code], audit=False)
        db.session.commit()
    assert console_sign_in(browser, staff, code=code).request.path == "/admin/"


def test_a_replayed_totp_code_is_refused(app, browser):
    staff = make_staff(app, "ops.alice")
    code = staff.code()
    assert console_sign_in(browser, staff, code=code).request.path == "/admin/"
    from ..support.browser import Browser

    page = console_sign_in(Browser(app.test_client()), staff, code=code)
    assert page.status_code == 400


def test_csrf_is_required_on_console_posts(app, browser):
    staff = make_staff(app, "ops.alice")
    console_sign_in(browser, staff)
    response = browser.client.post("/admin/cles/rotation", data={})
    assert response.status_code == 400 and "Formulaire expiré" in response.text
    response = browser.client.post("/admin/connexion", data={"identifier": "ops.alice",
                                                             "password": staff.password})
    assert response.status_code in (302, 400)
    assert browser.client.post("/admin/deconnexion", data={}).status_code == 400


def test_idle_timeout_is_shorter_than_families(app, browser, monkeypatch):
    assert app.config["STAFF_IDLE_MINUTES"] < app.config["SESSION_IDLE_MINUTES"]
    staff = make_staff(app, "ops.alice")
    console_sign_in(browser, staff)
    monkeypatch.setitem(app.config, "STAFF_IDLE_MINUTES", -1)  # as if idle too long
    page = browser.get("/admin/services")
    assert page.request.path == "/admin/connexion" and "expiré" in page.text


def test_disabling_a_staff_account_ends_its_session(app, browser):
    from idp.admin.staff import set_enabled

    staff = make_staff(app, "ops.alice")
    console_sign_in(browser, staff)
    with app.app_context():
        set_enabled("ops.alice", False, actor="test")
        db.session.commit()
    assert browser.get("/admin/").request.path == "/admin/connexion"
    browser.get("/admin/connexion")
    page = browser.submit("/admin/connexion", {"identifier": staff.identifier,
                                               "password": staff.password})
    assert page.status_code == 400


def test_staff_and_family_sessions_never_mix(app, browser, make):
    parent = make.account()
    browser.sign_in(parent.identifier, parent.password)
    page = browser.get("/admin/connexion")
    assert page.status_code == 409 and "compte famille" in page.text
    staff = make_staff(app, "ops.alice")
    browser.logout()
    assert console_sign_in(browser, staff).request.path == "/admin/"
    # A family signing in in this browser ends the console session (one or the other).
    browser.sign_in(parent.identifier, parent.password)
    assert browser.get("/admin/").request.path != "/admin/"


def test_sign_out(app, browser):
    staff = make_staff(app, "ops.alice")
    page = console_sign_in(browser, staff)
    page = browser.submit("/admin/deconnexion", {}, page_html=page.text)
    assert page.request.path == "/admin/connexion" and "déconnecté" in page.text
    assert browser.get("/admin/").request.path == "/admin/connexion"
    assert "staff_logout" in actions(app, actor="staff:ops.alice")
