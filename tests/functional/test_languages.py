"""French by default, English on demand: the switch keeps the page, ui_locales from the
RP is honoured, and a signed-in family's language becomes the account's, which emails
and SMS then speak (rendered with the account's locale, even by the worker)."""
from __future__ import annotations

import re

from idp.db import db
from idp.models import Account
from idp.notify.outbox import render_email, _render

from ..support.gating import authorize


def test_french_by_default_english_on_demand(client):
    page = client.get("/choisir-profil")
    assert '<html lang="fr">' in page.text and "Je me connecte" in page.text
    page = client.get("/choisir-profil?lang=en")
    assert '<html lang="en">' in page.text and "I sign in" in page.text
    assert "Choisissez" not in page.text and "Continue" in page.text
    # Remembered for the next pages, until switched back.
    assert "Username" in client.get("/connexion").text
    assert "Je me connecte" in client.get("/connexion?lang=fr").text


def test_the_switch_keeps_the_page_and_its_query(client):
    page = client.get("/connexion?flow=abc123")
    assert 'href="/connexion?flow=abc123&amp;lang=en"' in page.text
    page = client.get("/connexion?flow=abc123&lang=en")
    assert 'href="/connexion?flow=abc123&amp;lang=fr"' in page.text  # no lang twice


def test_english_error_messages(browser):
    browser.choose()
    browser.get("/connexion?lang=en")
    page = browser.submit("/connexion", {"identifier": "", "password": ""})
    assert "There is a problem with the form" in page.text
    assert "Enter your username." in page.text


def test_chosen_language_becomes_the_accounts(app, browser, make):
    made = make.account()
    browser.sign_in(made.identifier, made.password)
    page = browser.get("/?lang=en")
    # Dates too: "signed in since 23 November 2026 at 14:03", no French "à".
    assert re.search(r"signed in since \d+ [A-Z][a-z]+ \d{4} at \d\d:\d\d", page.text)
    with app.app_context():
        account = db.session.get(Account, made.id)
        assert account.locale == "en"


def test_emails_and_sms_in_the_accounts_language(app):
    context = {"first_name": "Marie", "identifier": "m.durand", "link": "http://x/a",
               "deadline": "01/02/2027"}
    with app.app_context():
        english = render_email("activation", context, "en")
        french = render_email("activation", context, "fr")
        sms = _render("sms/security_code.txt", {"code": "123456", "minutes": 10}, "en")
    assert english["subject"] == "Message from the online services - Activating your account"
    assert "Hello Marie," in english["text"] and "Bonjour" not in english["text"]
    assert french["subject"] == "Message des services en ligne - Activation de votre compte"
    assert "123456 is your Connexion Scolarité security code" in sms


def test_ui_locales_from_the_rp_then_the_account_keeps_it(app, browser, rp, make):
    made = make.account()
    page = authorize(browser, rp, ui_locales="en-GB fr")
    assert page.request.path == "/choisir-profil" and "I sign in" in page.text
    page = browser.sign_in(made, start=authorize(browser, rp, ui_locales="en-GB fr"))
    with app.app_context():
        assert db.session.get(Account, made.id).locale == "en"
