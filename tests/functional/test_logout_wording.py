"""The logout pages say "tu" to a pupil and "vous" to a parent: the question a service's
logout asks (OIDC and SAML share it) and the page after it."""
from __future__ import annotations

import html

import pytest


def _text(page) -> str:
    return html.unescape(page.text)


@pytest.mark.parametrize("pupil, asked, done", [
    (True, ["demande ta déconnexion", "Tu seras déconnecté de tous les services"],
     ["Tu es déconnecté", "Pense à fermer ton navigateur"]),
    (False, ["demande votre déconnexion", "Vous serez déconnecté de tous les services"],
     ["Vous êtes déconnecté", "Pensez à fermer votre navigateur"])])
def test_a_services_logout_speaks_to_the_family_member(flow, rp, make, browser, pupil, asked,
                                                       done):
    account = make.account(pupil=True) if pupil else make.account()
    browser.choose("pupil" if pupil else "parent")  # « Élève » or « Parent » on this device
    id_token = flow.tokens_for(rp, account)["id_token"]
    page = browser.client.get("/oidc/logout", query_string={"id_token_hint": id_token})
    assert page.status_code == 200 and all(words in _text(page) for words in asked)
    browser.page = page
    # Signed out: the page after it (no return address given) speaks as the device chose.
    after = browser.submit("/oidc/logout", {"confirm": "1", "id_token_hint": id_token})
    assert after.status_code == 200 and all(words in _text(after) for words in done)
    assert all(words in _text(browser.client.get("/deconnecte")) for words in done)


@pytest.mark.parametrize("pupil, words", [
    (True, "Tu peux te déconnecter depuis la page d'accueil"),
    (False, "Vous pouvez vous déconnecter depuis la page d'accueil")])
def test_an_invalid_logout_request_speaks_to_the_signed_in_member(make, browser, pupil, words):
    account = make.account(pupil=True) if pupil else make.account()
    assert browser.sign_in(account).request.path == "/"
    page = browser.client.get("/oidc/logout", query_string={"id_token_hint": "not-a-token"})
    assert page.status_code == 400 and "Déconnexion impossible" in _text(page)
    assert words in _text(page)
