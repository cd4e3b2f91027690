"""J1/J2: choose who you are, sign in, sign out (real forms, CSRF on)."""
from __future__ import annotations

import html
import time

from idp.db import db
from idp.models import AuditEvent

from ..support.browser import Browser


def test_wayf_is_asked_once_then_remembered(browser):
    page = browser.get("/")
    assert page.request.path == "/choisir-profil"
    assert "Représentant légal" in page.text and "Établissements agricoles publics" in page.text
    page = browser.submit("/choisir-profil", {"profile": "parent", "academy": "reims"})
    assert page.request.path == "/connexion"
    assert "Reims" in page.text and "Changer de profil" in page.text
    # Remembered on the device: a new visit goes straight to the sign-in form.
    assert browser.get("/").request.path == "/connexion"


def test_wayf_refuses_unknown_values_with_a_message(browser):
    browser.get("/choisir-profil")
    page = browser.submit("/choisir-profil", {"profile": "admin", "academy": "atlantis"})
    assert page.status_code == 400
    assert page.text.count("N&#39;est pas un choix valide.") == 4  # summary + beside each field
    assert 'aria-invalid="true"' in page.text


def test_wayf_empty_submit_says_what_is_missing(browser):
    browser.get("/choisir-profil")
    page = browser.submit("/choisir-profil", {})
    assert page.status_code == 400
    assert "Choisissez votre profil." in page.text
    assert "Choisissez votre académie." in page.text


def test_a_tampered_wayf_cookie_is_ignored(browser):
    browser.client.set_cookie("idp_wayf", "root:../../etc", domain="localhost")
    assert browser.get("/").request.path == "/choisir-profil"


def test_sign_in_and_reach_the_home_page(browser, make):
    parent = make.account(with_pupils=2)
    page = browser.sign_in(parent.identifier, parent.password)
    assert page.request.path == "/"
    assert parent.identifier in page.text
    assert "Enfant0" in page.text and "Enfant1" in page.text


def test_sign_in_accepts_identifier_case_and_spaces(browser, make):
    parent = make.account()
    page = browser.sign_in("  " + parent.identifier.upper() + " ", parent.password)
    assert page.request.path == "/"


def test_wrong_password_keeps_identifier_and_says_so_beside_the_field(browser, make):
    parent = make.account()
    page = browser.sign_in(parent.identifier, "Wrong-Pass-2026")
    assert page.status_code == 400
    assert "Identifiant ou mot de passe incorrect." in page.text
    assert f'value="{parent.identifier}"' in page.text
    assert 'id="password-error"' in page.text


def test_unknown_identifier_gets_the_same_answer(browser, make):
    parent = make.account()
    wrong_password = browser.sign_in(parent.identifier, "Wrong-Pass-2026").text
    unknown = browser.sign_in("z.nobody99", "Wrong-Pass-2026").text
    strip = lambda html: html.replace(parent.identifier, "X").replace("z.nobody99", "X")
    import re
    token = re.compile(r'value="[^"]{40,}"')
    assert token.sub("", strip(wrong_password)) == token.sub("", strip(unknown))


def test_unknown_identifier_costs_a_password_verification(app, make):
    """Timing: an unknown identifier runs the same argon2 verify (dummy hash)."""
    from idp.extensions import passwords

    with app.app_context():
        hasher = passwords()
        real = hasher.hash("Cartable-Bleu-2026")
        runs = []
        for stored in (real, None) * 5:
            start = time.perf_counter()
            hasher.verify(stored, "Wrong-Pass-2026")
            runs.append(time.perf_counter() - start)
        known, unknown = sorted(runs[0::2])[2], sorted(runs[1::2])[2]
        assert 0.5 < unknown / known < 2.0


def test_empty_submit_shows_messages_next_to_fields(browser):
    browser.choose()
    browser.get("/connexion")
    page = browser.submit("/connexion", {"identifier": "", "password": ""})
    assert page.status_code == 400
    assert "Saisissez votre identifiant." in page.text
    assert "Saisissez votre mot de passe." in page.text
    assert 'href="#identifier"' in page.text  # error summary links to the field


def test_deactivated_account_is_told_to_contact_the_school(browser, make):
    parent = make.account(state="deactivated")
    page = browser.sign_in(parent.identifier, parent.password)
    assert page.status_code == 403
    assert "Rapprochez-vous du secrétariat de votre établissement" in page.text
    # With a wrong password the answer is the ordinary one: nothing revealed.
    page = browser.sign_in(parent.identifier, "Wrong-Pass-2026")
    assert "Identifiant ou mot de passe incorrect." in page.text


def test_a_deactivated_pupil_is_told_with_tu(browser, make):
    """Found by the Chromium walk: a pupil read "Votre compte est désactivé… Rapprochez-vous
    du secrétariat". After the right password the account's profile decides, whatever
    profile this device chose; a wrong password still gets the ordinary answer."""
    pupil = make.account(profile="pupil", state="deactivated")
    browser.choose("parent")
    page = browser.sign_in(pupil.identifier, pupil.password, choose=False)
    assert page.status_code == 403
    text = html.unescape(page.text)
    assert "Ton compte est désactivé" in text
    assert "Va voir le secrétariat de ton établissement" in text
    assert "Votre compte" not in text and "Rapprochez-vous" not in text
    page = browser.sign_in(pupil.identifier, "Wrong-Pass-2026", choose=False)
    assert "Identifiant ou mot de passe incorrect." in page.text


def test_sign_in_links_to_recovery_and_signup(browser):
    browser.choose()
    page = browser.get("/connexion")
    for text in ("Identifiant oublié ?", "Mot de passe oublié ?", "Je n'ai pas de compte"):
        assert text in page.text


def test_session_id_is_regenerated_at_sign_in(browser, make):
    parent = make.account()
    browser.choose()
    browser.get("/connexion")
    before = browser.client.get_cookie("idp_session").value
    browser.submit("/connexion", {"identifier": parent.identifier, "password": parent.password})
    after = browser.client.get_cookie("idp_session").value
    assert before != after
    # The old id is dead: a browser replaying it is not signed in.
    other = browser.client.application.test_client()
    other.set_cookie("idp_session", before, domain="localhost")
    other.set_cookie("idp_wayf", "parent:nancy-metz", domain="localhost")
    assert other.get("/").location.endswith("/connexion")


def test_session_cookie_flags(browser, make):
    parent = make.account()
    response = browser.sign_in(parent.identifier, parent.password, follow=False)
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("idp_session")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_is_a_post_with_csrf(browser, make):
    parent = make.account()
    browser.sign_in(parent.identifier, parent.password)
    assert browser.client.get("/deconnexion").status_code == 405
    # Without the CSRF token nothing happens.
    assert browser.client.post("/deconnexion").status_code == 400
    assert browser.get("/").request.path == "/"
    page = browser.logout()
    assert "Votre session est fermée" in page.text
    assert browser.get("/").request.path == "/connexion"


def test_sign_in_and_failure_are_audited_without_secrets(app, browser, make):
    parent = make.account()
    browser.sign_in(parent.identifier, "Wrong-Pass-2026")
    browser.sign_in(parent.identifier, parent.password)
    with app.app_context():
        events = db.session.query(AuditEvent).order_by(AuditEvent.id).all()
        assert [e.action for e in events] == ["login_failed", "login"]
        assert all("Wrong-Pass" not in str(e.details) and parent.password not in str(e.details)
                   for e in events)


def test_security_headers_on_pages(browser):
    page = browser.get("/choisir-profil")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_english_locale(browser):
    page = browser.get("/choisir-profil?lang=en")
    assert '<html lang="en">' in page.text


def test_deactivation_ends_open_sessions(app, browser, make):
    from idp.models import Account, AccountState

    parent = make.account()
    browser.sign_in(parent.identifier, parent.password)
    with app.app_context():
        db.session.get(Account, parent.id).state = AccountState.deactivated
        db.session.commit()
    assert browser.get("/").request.path == "/connexion"


def test_absolute_session_timeout(app, browser, make):
    parent = make.account()
    browser.sign_in(parent.identifier, parent.password)
    store = app.extensions["idp"]["store"]
    key = "sess:" + browser.client.get_cookie("idp_session").value
    store.set(key, {**store.get(key), "_deadline": time.time() - 1}, 600)
    assert browser.get("/").request.path == "/connexion"


def test_idle_timeout_is_the_store_ttl(app, browser, make):
    parent = make.account()
    browser.sign_in(parent.identifier, parent.password)
    sid = browser.client.get_cookie("idp_session").value
    ttl = app.extensions["idp"]["store"].ttl("sess:" + sid)
    assert 0 < ttl <= app.config["SESSION_IDLE_MINUTES"] * 60


def test_https_deployment_uses_host_prefixed_secure_cookies_and_hsts(settings, make):
    from idp import create_app

    secure_app = create_app({**settings, "ISSUER": "https://idp.example"})
    parent = make.account()
    browser = Browser(secure_app.test_client(), host="idp.example")
    client = browser.client
    base = "https://idp.example"
    page = client.get(base + "/choisir-profil")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    from tests.support.browser import csrf_token

    client.post(base + "/choisir-profil", data={"csrf_token": csrf_token(page.text),
                                                "profile": "parent", "academy": "reims"})
    page = client.get(base + "/connexion")
    response = client.post(base + "/connexion", data={
        "csrf_token": csrf_token(page.text), "identifier": parent.identifier,
        "password": parent.password})
    cookie = [h for h in response.headers.getlist("Set-Cookie") if "idp_session" in h][0]
    assert cookie.startswith("__Host-idp_session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie


def test_no_dynamic_client_registration(client):
    assert client.post("/oidc/register", json={"redirect_uris": ["https://x.example/cb"]}
                       ).status_code == 404
