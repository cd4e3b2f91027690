"""RP-initiated logout: never redirect on a bad hint or an unregistered target."""
from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import RSAKey


def _logout(browser, **params):
    return browser.client.get("/oidc/logout", query_string=params)


def test_logout_with_valid_hint_confirms_then_redirects_with_state(flow, rp, parent, browser):
    id_token = flow.tokens_for(rp, parent)["id_token"]
    page = _logout(browser, id_token_hint=id_token, state="bye",
                   post_logout_redirect_uri="https://ent.example/")
    assert page.status_code == 200 and "Se déconnecter ?" in page.text
    browser.page = page
    response = browser.submit("/oidc/logout", {
        "confirm": "1", "id_token_hint": id_token, "state": "bye",
        "post_logout_redirect_uri": "https://ent.example/"})
    assert response.status_code == 302
    assert response.location == "https://ent.example/?state=bye"
    assert browser.get("/").request.path == "/connexion"


def test_unregistered_post_logout_redirect_uri_never_redirects(flow, rp, parent, browser):
    id_token = flow.tokens_for(rp, parent)["id_token"]
    page = _logout(browser, id_token_hint=id_token,
                   post_logout_redirect_uri="https://evil.example/")
    assert page.status_code == 400 and page.location is None


def test_missing_hint_with_redirect_never_redirects(browser):
    page = _logout(browser, post_logout_redirect_uri="https://ent.example/")
    assert page.status_code == 400 and page.location is None


def test_forged_hint_never_redirects(flow, rp, parent, browser):
    flow.tokens_for(rp, parent)
    key = RSAKey.generate_key(2048)
    forged = jwt.encode({"alg": "RS256"}, {"iss": "http://localhost", "aud": rp.client_id,
                                           "sub": parent.public_id}, key)
    page = _logout(browser, id_token_hint=forged, post_logout_redirect_uri="https://ent.example/")
    assert page.status_code == 400 and page.location is None
    page = _logout(browser, id_token_hint="not.a.jwt", post_logout_redirect_uri="https://ent.example/")
    assert page.status_code == 400 and page.location is None


def test_hint_for_another_client_does_not_unlock_its_uris(flow, rp, parent, browser, make):
    other = make.oidc_client(redirect_uris=["https://other.example/cb"],
                             post_logout_redirect_uris=["https://other.example/"])
    id_token = flow.tokens_for(rp, parent)["id_token"]
    page = _logout(browser, id_token_hint=id_token,
                   post_logout_redirect_uri="https://other.example/")
    assert page.status_code == 400
    page = _logout(browser, id_token_hint=id_token, client_id=other.client_id)
    assert page.status_code == 400


def test_logout_confirmation_needs_csrf(flow, rp, parent, browser):
    id_token = flow.tokens_for(rp, parent)["id_token"]
    response = browser.client.post("/oidc/logout", data={
        "confirm": "1", "id_token_hint": id_token, "post_logout_redirect_uri": "https://ent.example/"})
    assert response.status_code == 200  # the confirmation page again, nothing ended
    assert browser.get("/").request.path == "/"


def test_logout_without_session_goes_back_to_the_registered_uri(flow, rp, parent, make):
    from ..support.browser import Browser

    id_token = flow.tokens_for(rp, parent)["id_token"]
    stranger = Browser(flow.browser.client.application.test_client())
    response = _logout(stranger, id_token_hint=id_token,
                       post_logout_redirect_uri="https://ent.example/")
    assert response.status_code == 302 and response.location == "https://ent.example/"


def test_not_logging_out_goes_back_to_the_services_home_page(flow, parent, browser, make):
    """« Ne pas me déconnecter »: the service's home page (the one "Mes services" links
    to), not its post_logout_redirect_uri, which is where a logged-out family lands."""
    pronote = make.oidc_client(redirect_uris=["https://pronote.example/auth/callback"],
                               post_logout_redirect_uris=["https://pronote.example/au-revoir"])
    id_token = flow.tokens_for(pronote, parent)["id_token"]
    page = _logout(browser, id_token_hint=id_token,
                   post_logout_redirect_uri="https://pronote.example/au-revoir")
    assert page.status_code == 200 and "Ne pas me déconnecter" in page.text
    assert 'href="https://pronote.example/">Ne pas me déconnecter' in page.text
    assert "au-revoir" not in page.text.split("Ne pas me déconnecter")[0].rsplit("<a", 1)[1]
    assert browser.get("/").request.path == "/"  # still signed in


def test_not_logging_out_of_an_unnamed_logout_stays_on_our_home_page(flow, rp, parent, browser):
    flow.tokens_for(rp, parent)
    page = _logout(browser)  # no hint, no client: nobody to go back to
    assert page.status_code == 200 and 'href="/">Ne pas me déconnecter' in page.text
