"""The logout pages say "tu" to a pupil and "vous" to a parent: the question a service's
logout asks (OIDC and SAML share it), in words that hold for a girl and a boy, the pages
after it (all services, or only some confirmed), and the page of a logout request we
refuse (no library text on it)."""
from __future__ import annotations

import html
import logging

import pytest
from saml2 import BINDING_HTTP_REDIRECT

from tests.support.saml import send, sign_in_via


def _text(page) -> str:
    return html.unescape(page.text)


@pytest.mark.parametrize("pupil, asked, done", [
    (True, ["demande ta déconnexion", "Ta session sera fermée dans tous les services"],
     ["Ta session est fermée", "Pense à fermer ton navigateur"]),
    (False, ["demande votre déconnexion", "Votre session sera fermée dans tous les services"],
     ["Votre session est fermée", "Pensez à fermer votre navigateur"])])
def test_a_services_logout_speaks_to_the_family_member(flow, rp, make, browser, pupil, asked,
                                                       done):
    account = make.account(pupil=True) if pupil else make.account()
    browser.choose("pupil" if pupil else "parent")  # « Élève » or « Parent » on this device
    id_token = flow.tokens_for(rp, account)["id_token"]
    page = browser.client.get("/oidc/logout", query_string={"id_token_hint": id_token})
    assert page.status_code == 200 and all(words in _text(page) for words in asked)
    assert "seras déconnecté" not in _text(page) and "serez déconnecté" not in _text(page)
    assert "Ne pas me déconnecter" in _text(page) and "Rester connecté" not in _text(page)
    browser.page = page
    # Signed out: the page after it (no return address given) speaks as the device chose.
    after = browser.submit("/oidc/logout", {"confirm": "1", "id_token_hint": id_token})
    assert after.status_code == 200 and all(words in _text(after) for words in done)
    assert "déconnecté" not in _text(after)  # words that hold for a girl and a boy
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


def _refused_logouts(sp, stranger, name_id="nobody"):
    """Three LogoutRequests over the Redirect binding we refuse: from an SP we do not
    know, with a signature that does not verify, and one that does not even decode."""
    _, unknown = stranger.logout_request(name_id, binding=BINDING_HTTP_REDIRECT)
    _, good = sp.logout_request(name_id, binding=BINDING_HTTP_REDIRECT)
    forged = dict(good, query=good["query"].replace("Signature=", "Signature=AAAA"))
    garbled = {"url": "/saml/slo/redirect", "query": "SAMLRequest=bm90LWRlZmxhdGVk"}
    return {"unknown SP": unknown, "bad signature": forged, "unparsable": garbled}


@pytest.mark.parametrize("pupil, words", [
    (True, "Tu peux te déconnecter depuis la page d'accueil"),
    (False, "Vous pouvez vous déconnecter depuis la page d'accueil")])
def test_a_refused_saml_logout_request_gets_a_logout_page(make, browser, new_sp, caplog,
                                                          pupil, words):
    caplog.set_level(logging.INFO, logger="idp.saml.views")
    account = make.account(pupil=True) if pupil else make.account()
    assert browser.sign_in(account).request.path == "/"
    sp, stranger = new_sp(), new_sp(host="stranger.example", register=False)
    for why, args in _refused_logouts(sp, stranger).items():
        caplog.clear()
        page = send(browser.client, args)
        text = _text(page)
        assert page.status_code == 400, why
        assert "Déconnexion impossible" in text and words in text, why
        assert "Demande de connexion invalide" not in text, why
        # The reason is for the operators (the log, the audit trail), not on the page.
        reasons = [r.getMessage().split(": ", 1)[1] for r in caplog.records
                   if r.getMessage().startswith("SAML logout request refused")]
        assert len(reasons) == 1 and reasons[0] not in text, why
        assert "stranger.example" not in text and "Error" not in text, why
    assert browser.get("/").request.path == "/"  # nothing ended


def test_a_refused_saml_logout_request_says_vous_to_nobody_signed_in(client, new_sp):
    sp, stranger = new_sp(), new_sp(host="stranger.example", register=False)
    page = send(client, _refused_logouts(sp, stranger)["unknown SP"])
    assert page.status_code == 400 and "Déconnexion impossible" in _text(page)
    assert "Vous pouvez vous déconnecter depuis la page d'accueil" in _text(page)


@pytest.mark.parametrize("pupil, words", [
    (True, ["Ta session est fermée", "pas confirmé ta déconnexion", "ferme ton navigateur"]),
    (False, ["Votre session est fermée", "pas confirmé votre déconnexion",
             "fermez votre navigateur"])])
def test_the_partial_logout_page_speaks_to_the_family_member(make, browser, new_sp, pupil,
                                                             words):
    """Two SAML services without SLO endpoint: no LogoutResponse can go anywhere, the
    family is told some services did not confirm, as the device chose ("tu", "vous")."""
    account = make.account(pupil=True) if pupil else make.account()
    browser.choose("pupil" if pupil else "parent")  # this device's profile (signed out)
    asking = new_sp("sp-a.example", slo_bindings=())
    mute = new_sp("sp-mute.example", slo_bindings=())
    req_id, page = sign_in_via(browser, asking, account)
    result = asking.consume(page.text, req_id)
    req_id, page = sign_in_via(browser, mute, account)
    assert mute.consume(page.text, req_id) is not None
    _, args = asking.logout_request(result.name_id,
                                    result.assertion.authn_statement[0].session_index)
    end = send(browser.client, args)
    assert end.status_code == 200 and all(w in _text(end) for w in words), _text(end)
    assert "déconnecté" not in _text(end) and "sûr" not in _text(end)
