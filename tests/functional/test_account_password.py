""""Mon compte" (J6, seed 002): reached signed in from the home page; the identifier is
shown and cannot be changed; the password changes only with the current one, ends the
other sessions and the refresh tokens, and a notice is mailed (real SMTP)."""
from __future__ import annotations

import re
from html import unescape

from idp.db import db
from idp.models import RefreshToken

from ..support.accounts import account_row, audit_actions, deliver, mails_to

NEW_PASSWORD = "Trousse-Verte-2027"


def test_the_account_page_needs_a_sign_in_and_comes_back_after_it(browser, make):
    account = make.account()
    page = browser.get("/compte")
    assert page.request.path in ("/choisir-profil", "/connexion")
    browser.choose()
    page = browser.submit("/connexion", {"identifier": account.identifier,
                                         "password": account.password})
    assert page.request.path == "/compte" and "Mon compte" in page.text


def test_the_identifier_is_shown_and_never_editable(browser, make):
    account = make.account()
    home = browser.sign_in(account.identifier, account.password)
    assert 'href="/compte"' in home.text
    page = browser.get("/compte")
    assert account.identifier in page.text
    assert "L'identifiant ne peut pas être modifié." in page.text
    for path in ("/compte", "/compte/mot-de-passe", "/compte/email", "/compte/telephone"):
        assert 'name="identifier"' not in browser.get(path).text, path


def test_change_password_keeps_this_session_and_ends_the_others(app, browser, make, flow, rp,
                                                                use_smtp):
    account = make.account()
    other = type(browser)(app.test_client())
    other.sign_in(account.identifier, account.password)
    tokens = flow.tokens_for(rp, account)
    browser.sign_in(account.identifier, account.password)
    browser.get("/compte/mot-de-passe")
    page = browser.submit_page({"current": account.password, "password": NEW_PASSWORD,
                                "password_confirm": NEW_PASSWORD})
    assert page.request.path == "/compte"
    assert "Votre mot de passe a été changé. Vos autres sessions ont été fermées." in page.text
    assert browser.get("/").request.path == "/"          # this browser goes on
    assert other.get("/").request.path != "/"            # the other one is signed out
    refreshed = app.test_client().post("/oidc/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(rp.client_id, rp.client_secret))
    assert refreshed.status_code == 400
    with app.app_context():
        assert all(t.revoked for t in db.session.query(RefreshToken).all())
    deliver(app)
    [notice] = mails_to(use_smtp, "camille.martin@example.org")
    assert "a été changé le" in use_smtp.text_of(notice)
    assert "Ce n'était pas vous ?" in use_smtp.text_of(notice)
    browser.logout()
    assert browser.sign_in(account.identifier, NEW_PASSWORD).request.path == "/"


def test_a_wrong_current_password_changes_nothing(app, browser, make, use_smtp):
    account = make.account()
    before = account_row(app, account.id)
    browser.sign_in(account.identifier, account.password)
    browser.get("/compte/mot-de-passe")
    page = browser.submit_page({"current": "Pas-le-bon-1!", "password": NEW_PASSWORD,
                                "password_confirm": NEW_PASSWORD})
    assert page.status_code == 400
    assert "Mot de passe actuel incorrect : votre mot de passe n'a pas été changé." \
        in unescape(page.text)
    assert 'id="current-error"' in page.text and 'aria-invalid="true"' in page.text
    assert NEW_PASSWORD not in page.text
    after = account_row(app, account.id)
    assert (after.password_hash, after.session_epoch) == (before.password_hash,
                                                          before.session_epoch)
    assert "current_password_failed" in audit_actions(app)
    deliver(app)
    assert use_smtp.messages == []


def test_the_new_password_follows_the_policy(app, browser, make):
    account = make.account()
    before = account_row(app, account.id).password_hash
    browser.sign_in(account.identifier, account.password)
    browser.get("/compte/mot-de-passe")
    for new, message in (("motdepasse", "Au moins une lettre majuscule."),
                         ("Azerty123!", "Ce mot de passe est trop courant."),
                         (account.password, "différent du mot de passe actuel")):
        page = browser.submit_page({"current": account.password, "password": new,
                                    "password_confirm": new})
        assert page.status_code == 400 and message in unescape(page.text), message
    page = browser.submit_page({"current": account.password, "password": NEW_PASSWORD,
                                "password_confirm": "autre chose"})
    assert "Les deux mots de passe ne sont pas identiques." in page.text
    assert account_row(app, account.id).password_hash == before


def test_guessing_the_current_password_is_throttled(app, browser, make):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    browser.get("/compte/mot-de-passe")
    for i in range(6):
        browser.submit_page({"current": f"Devinette-{i}!", "password": NEW_PASSWORD,
                             "password_confirm": NEW_PASSWORD})
    for _ in range(4):  # more failures from this address: a wait of tens of seconds
        app.extensions["idp"]["throttle"].record_failure("127.0.0.1", account.identifier)
    # Past the threshold even the right password is refused for a while, and the page
    # says so (not "incorrect": the family would hunt for a typo in the right password).
    page = browser.submit_page({"current": account.password, "password": NEW_PASSWORD,
                                "password_confirm": NEW_PASSWORD})
    assert page.status_code == 400 and "Mot de passe actuel incorrect" not in page.text
    assert "Trop d&#39;essais : votre mot de passe n&#39;a pas été vérifié" in page.text
    assert not re.search(r"flash-success", page.text)
