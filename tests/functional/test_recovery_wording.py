"""Pages before sign-in say "tu" to a pupil and "vous" to a parent (found by the Chromium
walk: they always said "vous"). Before the account is known, the profile chosen on the
device decides ("Élève" or "Représentant légal", journeys/wayf); the identifier typed
decides nothing (it would tell whose account it is). Once a link or a verified code names
the account, its profile decides: forgotten identifier, forgotten password, and the pages
of a link that cannot be used (reset, "Ce n'était pas moi", signalement, email)."""
from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest

from idp.db import db
from idp.journeys.account.credentials import RESET_PURPOSE
from idp.security.onetime import issue_link_token

from ..support.accounts import deliver, update_account

NEW_PASSWORD = "Trousse-Verte-2027"
MOBILE = "+33612345678"


def _device(browser, profile: str):
    """The profile chosen on this device (the WAYF's cookie)."""
    browser.client.set_cookie("idp_wayf", f"{profile}:reims")
    return browser


def _text(response) -> str:
    return unescape(response.text)


def _says(response, tu: str, vous: str, pupil: bool):
    text = _text(response)
    said, not_said = (tu, vous) if pupil else (vous, tu)
    assert said in text, text[:1500]
    assert not_said not in text


BOTH = pytest.mark.parametrize("pupil", [True, False], ids=["pupil", "parent"])


def _profile(pupil: bool) -> str:
    return "pupil" if pupil else "parent"


# -- Identifiant oublié ------------------------------------------------------------------

@BOTH
def test_forgotten_identifier_page(browser, pupil):
    page = _device(browser, _profile(pupil)).get("/recuperation/identifiant")
    _says(page, "Reçois ton identifiant par email ou par SMS",
          "Recevez votre identifiant par email ou par SMS", pupil)
    _says(page, "L'adresse que tu as confirmée en activant ton compte.",
          "L'adresse que vous avez confirmée en activant votre compte.", pupil)
    _says(page, "Adresse-toi au secrétariat", "Adressez-vous au secrétariat", pupil)
    _says(page, "Adresse email enregistrée sur ton compte",
          "Adresse email enregistrée sur votre compte", pupil)


@BOTH
def test_forgotten_identifier_form_errors(browser, pupil):
    _device(browser, _profile(pupil)).get("/recuperation/identifiant")
    page = browser.submit("/recuperation/identifiant/email", {"email": ""})
    assert page.status_code == 400
    _says(page, "Saisis l'adresse email de ton compte.",
          "Saisissez l'adresse email de votre compte.", pupil)
    page = browser.submit("/recuperation/identifiant/sms", {"phone": ""})
    assert page.status_code == 400
    _says(page, "Saisis ton numéro de téléphone portable.",
          "Saisissez votre numéro de téléphone portable.", pupil)


@BOTH
def test_identifier_sent_by_email_and_by_sms(browser, make, pupil):
    make.account(profile="parent" if pupil else "pupil")  # the account decides nothing
    _device(browser, _profile(pupil)).get("/recuperation/identifiant")
    page = browser.submit("/recuperation/identifiant/email", {"email": "x.y@example.org"})
    assert page.status_code == 200
    _says(page, "Consulte tes messages", "Consultez vos messages", pupil)
    _says(page, "un message contenant ton identifiant",
          "un message contenant votre identifiant", pupil)
    _says(page, "Tu ne le trouves pas ?", "Vous ne le trouvez pas ?", pupil)
    browser.get("/recuperation/identifiant")
    page = browser.submit("/recuperation/identifiant/sms", {"phone": "06 12 34 56 79"})
    assert page.status_code == 200
    _says(page, "un SMS contenant ton identifiant", "un SMS contenant votre identifiant",
          pupil)
    _says(page, "il pourra te communiquer ton identifiant",
          "il pourra vous communiquer votre identifiant", pupil)


# -- Mot de passe oublié -----------------------------------------------------------------

@BOTH
def test_forgotten_password_pages(browser, make, pupil):
    # The identifier typed is another profile's: the device's choice still decides.
    account = make.account(profile="parent" if pupil else "pupil")
    page = _device(browser, _profile(pupil)).get("/recuperation/mot-de-passe")
    _says(page, "Choisis un nouveau mot de passe en recevant",
          "Choisissez un nouveau mot de passe en recevant", pupil)
    empty = browser.submit("/recuperation/mot-de-passe", {"identifier": ""})
    _says(empty, "Saisis ton identifiant.", "Saisissez votre identifiant.", pupil)
    page = browser.submit("/recuperation/mot-de-passe", {"identifier": account.identifier})
    assert page.request.path == "/recuperation/mot-de-passe/moyen"
    _says(page, "Comment veux-tu recevoir le lien", "Comment voulez-vous recevoir le lien",
          pupil)
    _says(page, "enregistré sur ton compte", "enregistré sur votre compte", pupil)
    _says(page, "Tu n'as ni adresse email confirmée", "Vous n'avez ni adresse email confirmée",
          pupil)
    refused = browser.submit_page({})
    _says(refused, "Choisis comment recevoir", "Choisissez comment recevoir", pupil)
    sent = browser.submit_page({"channel": "email"})
    _says(sent, "Consulte ta messagerie", "Consultez votre messagerie", pupil)
    _says(sent, "Ouvre le lien qu'il contient", "Ouvrez le lien qu'il contient", pupil)
    _says(sent, "demande à ton établissement", "demandez à votre établissement", pupil)


@BOTH
def test_forgotten_password_by_sms(app, browser, make, use_sms_gateway, pupil):
    account = make.account(profile=_profile(pupil))
    update_account(app, account.id, phone=MOBILE)
    _device(browser, _profile(pupil)).get("/recuperation/mot-de-passe")
    browser.submit("/recuperation/mot-de-passe", {"identifier": account.identifier})
    page = browser.submit_page({"channel": "sms"})
    assert page.request.path == "/recuperation/mot-de-passe/code"
    _says(page, "Saisis le code reçu par SMS", "Saisissez le code reçu par SMS", pupil)
    _says(page, "Tu n'as pas reçu de code ?", "Vous n'avez pas reçu de code ?", pupil)
    empty = browser.submit_page({"code": ""})
    _says(empty, "Saisis le code à 6 chiffres", "Saisissez le code à 6 chiffres", pupil)
    deliver(app)
    code = use_sms_gateway.last_code(MOBILE)
    wrong = browser.submit_page({"code": "000000" if code != "000000" else "111111"})
    _says(wrong, "Il te reste 2 essais.", "Il vous reste 2 essais.", pupil)
    page = browser.submit_page({"code": code})
    assert page.request.path == "/recuperation/mot-de-passe/nouveau"
    _says(page, "Choisis un nouveau mot de passe", "Choisissez un nouveau mot de passe", pupil)
    done = browser.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    _says(done, "Ton mot de passe a été changé", "Votre mot de passe a été changé", pupil)


@BOTH
def test_a_reset_link_speaks_to_its_account_whatever_the_device(app, browser, make, pupil):
    """The link names the account: its profile decides, not this device's choice."""
    account = make.account(profile=_profile(pupil))
    with app.app_context():
        token = issue_link_token(account.id, RESET_PURPOSE, timedelta(hours=1))
        db.session.commit()
    _device(browser, "parent" if pupil else "pupil")
    page = browser.get(f"/recuperation/mot-de-passe/lien/{token}")
    assert page.status_code == 200
    _says(page, "Choisis un nouveau mot de passe", "Choisissez un nouveau mot de passe", pupil)
    _says(page, "Ni ton identifiant", "Ni votre identifiant", pupil)
    empty = browser.submit_page({"password": "", "password_confirm": ""})
    _says(empty, "Choisis un nouveau mot de passe.", "Choisissez un nouveau mot de passe.",
          pupil)
    done = browser.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    _says(done, "Connecte-toi avec ton nouveau mot de passe",
          "Connectez-vous avec votre nouveau mot de passe", pupil)


# -- Links that cannot be used -----------------------------------------------------------

@BOTH
def test_an_unusable_reset_link(browser, pupil):
    page = _device(browser, _profile(pupil)).get("/recuperation/mot-de-passe/lien/abc")
    assert page.status_code == 400
    _says(page, "Vérifie que tu as copié l'adresse", "Vérifiez que vous avez copié l'adresse",
          pupil)


@BOTH
def test_an_unusable_not_me_link(browser, pupil):
    page = _device(browser, _profile(pupil)).get("/connexion/ce-netait-pas-moi/abc")
    assert page.status_code == 400
    _says(page, "Si tu penses que quelqu'un utilise ton compte",
          "Si vous pensez que quelqu'un utilise votre compte", pupil)


@BOTH
def test_an_unusable_email_change_report_link(browser, pupil):
    page = _device(browser, _profile(pupil)).get("/compte/signalement/abc")
    _says(page, "Tu n'as pas demandé ce changement d'adresse ?",
          "Vous n'avez pas demandé ce changement d'adresse ?", pupil)
    refused = browser.submit_page({})
    assert refused.status_code == 400
    _says(refused, "copie l'adresse en entier", "copiez l'adresse en entier", pupil)


@BOTH
def test_an_unusable_email_confirmation_link(browser, pupil):
    page = _device(browser, _profile(pupil)).get("/preferences/email/abc")
    _says(page, "Clique sur le bouton", "Cliquez sur le bouton", pupil)
    refused = browser.submit_page({})
    assert refused.status_code == 400
    _says(refused, "connecte-toi pour demander un nouveau lien",
          "connectez-vous pour demander un nouveau lien", pupil)


@BOTH
def test_too_many_requests(app, browser, pupil):
    """The per-address pace of the recovery forms: its page too."""
    _device(browser, _profile(pupil)).get("/recuperation/identifiant")
    ceiling = app.config["RECOVERY_REQUESTS_PER_IP_HOUR"]
    app.config["RECOVERY_REQUESTS_PER_IP_HOUR"] = 0
    try:
        page = browser.submit("/recuperation/identifiant/email", {"email": "x.y@example.org"})
    finally:
        app.config["RECOVERY_REQUESTS_PER_IP_HOUR"] = ceiling
    assert page.status_code == 429
    _says(page, "Réessaie dans", "Réessayez dans", pupil)
    _says(page, "adresse-toi au secrétariat", "adressez-vous au secrétariat", pupil)
