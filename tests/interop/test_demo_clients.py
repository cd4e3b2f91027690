"""The demo as a family lives it: three real processes (IdP under gunicorn, the ENT and
PRONOTE demo relying parties) and one browser.

Sign in at the ENT, open PRONOTE without typing a password again (single sign-on), log out
from the ENT and find PRONOTE signed out too (back-channel logout from the IdP).
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support.served import HttpBrowser, deliver_outbox, demo_relying_parties

pytestmark = pytest.mark.interop
SIGN_IN = "Se connecter avec Connexion Scolarité"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture
def demo(app, settings, served_idp, monkeypatch, tmp_path):
    """Register the demo RPs (as `idp demo load` does) at free ports, then start them.

    Per test: clean_state empties the tables before each test, and load_demo gives the
    clients new secrets, which the RP processes read from the clients file at start."""
    with demo_relying_parties(app, served_idp, monkeypatch, tmp_path) as (urls, summary):
        yield {"urls": urls, "idp": served_idp.url, "accounts": summary["accounts"]}


def _parent(demo) -> dict:
    return next(a for a in demo["accounts"] if a["profile"] == "parent")


def test_sso_and_single_logout_between_ent_and_pronote(demo, settings, served_idp):
    ent, pronote = demo["urls"]["ENT"], demo["urls"]["PRONOTE"]
    parent, browser = _parent(demo), HttpBrowser()

    home = browser.open(ent + "/")
    assert SIGN_IN in home.text and "Content-Security-Policy" in home.headers
    assert "unsafe-inline" not in home.headers["Content-Security-Policy"]
    browser.submit()  # the sign-in button: off to the IdP
    page = browser.sign_in(browser.url, parent["identifier"], parent["password"])
    assert browser.visited("/connexion")
    # J5 at first access: the demo charter, then "Contact et préférences" (seed 003).
    assert browser.visited("/charte") and browser.visited("/preferences")
    assert not browser.visited("/consentement")  # the ENT is the school's own service
    assert browser.url == ent + "/", f"ENT sign-in did not come back: {browser.url}"
    assert "Bonjour Marie Durand" in page.text, page.text
    assert "Léo" in page.text and "Emma" in page.text  # linked pupils from the claims
    assert "0540042A" in page.text and "Représentant légal" in page.text
    assert f'href="{pronote}/"' in page.text  # the link to the other demo RP

    browser.history.clear()
    assert SIGN_IN in browser.open(pronote + "/").text
    browser.submit()
    page = browser.sign_in(browser.url)  # no credentials: the IdP must not ask
    assert not browser.visited("/connexion"), "PRONOTE asked for the password again"
    assert browser.visited("/information-service")  # PRONOTE's one-time notice
    assert not browser.visited("/charte"), "the charter was asked twice"
    assert browser.url == pronote + "/" and "Bonjour Marie Durand" in page.text

    # Log out from the ENT: RP-initiated logout, confirmed on the IdP's page.
    browser.open(ent + "/")
    browser.submit()  # "Se déconnecter"
    assert browser.url.startswith(demo["idp"] + "/oidc/logout"), browser.url
    page = browser.submit()  # "Me déconnecter" on the IdP's confirmation page
    assert urlsplit(browser.url)._replace(query="").geturl() == ent + "/", browser.url
    assert "Votre session est fermée dans ce service" in page.text and SIGN_IN in page.text

    # PRONOTE hears it through the back channel, without the browser: the notice went
    # to the outbox, and the worker posts it.
    assert deliver_outbox(settings, served_idp, "logout")["sent"] >= 1
    assert SIGN_IN in browser.open(pronote + "/").text, "PRONOTE still shows the family"
    assert SIGN_IN in browser.open(ent + "/").text


def test_backchannel_endpoint_refuses_bad_logout_tokens(demo):
    endpoint = demo["urls"]["PRONOTE"] + "/backchannel-logout"
    assert requests.post(endpoint, data={}, timeout=5).status_code == 400
    assert requests.post(endpoint, data={"logout_token": "pas.un.jeton"},
                         timeout=5).status_code == 400
    now = int(time.time())
    forged = jwt.encode(  # well formed, but signed by a key the IdP never published
        {"alg": "RS256", "kid": "forged"},
        {"iss": demo["idp"], "aud": "demo-pronote", "iat": now, "exp": now + 60,
         "jti": "x", "sid": "s", "events": {LOGOUT_EVENT: {}}},
        RSAKey.generate_key(2048))
    assert requests.post(endpoint, data={"logout_token": forged}, timeout=5).status_code == 400
