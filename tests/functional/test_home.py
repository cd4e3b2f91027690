"""J7 the signed-in home page: services, linked pupils, open sessions with "se déconnecter
partout", consents given with a way to withdraw each."""
from __future__ import annotations

import re
from html import unescape

from idp.models import Account, Consent
from idp.notify.delivery import deliver_due

from ..support.backchannel import BackchannelReceiver, backchannel_rp  # noqa: F401
from ..support.browser import Browser
from ..support.gating import at_rp, authorize
from ..support.oidc import pkce_pair

FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/126.0 Safari/537.36")


def test_home_lists_services_pupils_and_this_session(browser, make, rp):
    make.oidc_client(name="PRONOTE", redirect_uris=["https://pronote.example/cb"])
    parent = make.account(with_pupils=2)
    page = browser.sign_in(parent.identifier, parent.password)
    assert page.request.path == "/"
    assert 'href="https://ent.example/"' in page.text and 'href="https://pronote.example/"' in page.text
    assert "Enfant0 Martin" in page.text and "Enfant1 Martin" in page.text
    assert "Mes sessions ouvertes" in page.text and "(cet appareil)" in page.text
    assert "Se déconnecter partout" in page.text
    assert "Vous n'avez autorisé aucun service" in page.text


def test_sessions_on_two_devices_and_sign_out_everywhere(app, make, backchannel_rp, gating):
    account = make.account()
    phone = Browser(app.test_client())
    phone.client.environ_base["HTTP_USER_AGENT"] = FIREFOX_ANDROID
    computer = Browser(app.test_client())
    computer.client.environ_base["HTTP_USER_AGENT"] = CHROME_WINDOWS
    for device in (phone, computer):
        assert at_rp(device.sign_in(account, start=authorize(device, backchannel_rp)), backchannel_rp)
    page = computer.get("/")
    assert "Firefox — Android" in page.text and "Chrome — Windows" in page.text
    assert re.search(r"Chrome — Windows — connecté depuis le [^<]+<strong>\(cet appareil\)", page.text)

    # Without the CSRF token nothing happens.
    assert computer.client.post("/deconnexion-partout").status_code == 400
    assert phone.get("/").request.path == "/"

    computer.page = page
    done = computer.submit("/deconnexion-partout", {})
    assert "Votre session est fermée" in done.text
    assert computer.get("/").request.path == "/connexion"
    assert phone.get("/").request.path == "/connexion"  # the other device too
    assert BackchannelReceiver.received == []  # queued in the outbox, not sent by the request
    with app.app_context():
        assert deliver_due().sent == 2  # what `idp worker` does next
    assert len(BackchannelReceiver.received) == 2  # the ENT heard of both sessions
    assert all("logout_token=" in body for body in BackchannelReceiver.received)
    [row] = gating.rows(Account, id=account.id)
    assert row.session_epoch == 1
    assert "logout_everywhere" in gating.actions()


def test_sessions_of_another_account_are_not_listed(app, make):
    one, other = make.account(), make.account(first_name="Sacha")
    first, second = Browser(app.test_client()), Browser(app.test_client())
    first.sign_in(one.identifier, one.password)
    second.sign_in(other.identifier, other.password)
    page = first.get("/")
    assert page.text.count("connecté depuis le") == 1


def test_consents_are_listed_and_each_can_be_withdrawn(app, browser, make, gating):
    soutien = make.oidc_client(name="Soutien scolaire", trusted=False,
                               redirect_uris=["https://soutien.example/cb"],
                               scopes=["openid", "profile", "offline_access"])
    orientation = make.oidc_client(name="Orientation", trusted=False,
                                   redirect_uris=["https://orientation.example/cb"])
    account = make.account()
    # Soutien scolaire gets a refresh token, to see it stop working on withdrawal.
    verifier, challenge = pkce_pair()
    browser.get("/oidc/authorize", query_string={
        "response_type": "code", "client_id": soutien.client_id, "redirect_uri": soutien.redirect_uri,
        "scope": "openid profile offline_access", "state": "s", "nonce": "n1",
        "code_challenge": challenge, "code_challenge_method": "S256", "prompt": "consent"})
    browser.submit("/choisir-profil", {"profile": "parent", "academy": "nancy-metz"})
    browser.submit("/connexion", {"identifier": account.identifier, "password": account.password})
    code = at_rp(browser.submit_page({"allow": "1"}), soutien)["code"]
    tokens = browser.client.post("/oidc/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": soutien.redirect_uri,
        "code_verifier": verifier}, auth=(soutien.client_id, soutien.client_secret)).json
    assert "refresh_token" in tokens
    authorize(browser, orientation)
    assert at_rp(browser.submit_page({"allow": "1"}), orientation)

    page = browser.get("/")
    assert "Soutien scolaire" in page.text and "Orientation" in page.text
    text = unescape(page.text)
    assert "Un accès à ces informations même en votre absence" in text
    assert "Retirer l'autorisation donnée à Soutien scolaire" in text
    soutien_consent = next(c for c in gating.rows(Consent) if c.rp_key.endswith(soutien.client_id))

    # Without CSRF: refused, nothing withdrawn.
    url = f"/autorisations/{soutien_consent.id}/retirer"
    assert browser.client.post(url).status_code == 400
    page = browser.submit(url, {})
    assert "Autorisation retirée" in page.text
    withdrawn = gating.rows(Consent, id=soutien_consent.id)[0]
    assert withdrawn.withdrawn_at is not None
    assert "Retirer l'autorisation donnée à Soutien scolaire" not in unescape(page.text)
    assert "Orientation" in page.text  # the other one stays
    # The refresh token stopped working; the RP's next request asks again.
    refreshed = browser.client.post("/oidc/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(soutien.client_id, soutien.client_secret))
    assert refreshed.status_code == 400 and refreshed.json["error"] == "invalid_grant"
    assert authorize(browser, soutien, scope="openid profile").request.path == "/consentement"


def test_withdrawing_someone_elses_consent_is_refused(app, browser, make, gating):
    rp = make.oidc_client(trusted=False, redirect_uris=["https://autre.example/cb"])
    owner = make.account()
    other_browser = Browser(app.test_client())
    other_browser.sign_in(owner, start=authorize(other_browser, rp))
    assert at_rp(other_browser.submit_page({"allow": "1"}), rp)
    [consent] = gating.rows(Consent)

    intruder = make.account(first_name="Alex")
    page = browser.sign_in(intruder.identifier, intruder.password)
    response = browser.submit(f"/autorisations/{consent.id}/retirer", {}, page_html=page.text)
    assert response.status_code == 404
    assert gating.rows(Consent)[0].withdrawn_at is None
    assert browser.submit("/autorisations/999999/retirer", {}, page_html=page.text).status_code == 404


def test_home_is_gated(browser):
    assert browser.get("/").request.path == "/choisir-profil"
    assert browser.client.post("/deconnexion-partout").status_code == 400  # CSRF first
    assert browser.client.post("/autorisations/1/retirer").status_code == 400
