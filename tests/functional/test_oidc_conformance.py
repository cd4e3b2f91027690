"""OpenID Connect Core conformance (issue 22): request objects refused on the redirect
URI, `acr` in ID tokens and `acr_values` honoured, the `claims` parameter within the
client's registered scopes. The independent client's view: tests/interop."""
from __future__ import annotations

import json
import re

import pyotp
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.db import db
from idp.models import Account

from ..support.browser import Browser
from ..support.oidc import query
from .conftest import Flow

UNSIGNED = "eyJhbGciOiJub25lIn0.eyJzdGF0ZSI6Imluc2lkZSJ9."


def id_token_claims(client, token: dict) -> dict:
    keys = KeySet.import_key_set(client.get("/oidc/jwks").json)
    return jwt.decode(token["id_token"], keys, algorithms=["RS256", "ES256"]).claims


def userinfo(client, token: dict) -> dict:
    return client.get("/oidc/userinfo",
                      headers={"Authorization": "Bearer " + token["access_token"]}).json


def test_request_objects_are_refused_on_the_redirect_uri(flow, rp):
    for name, error in (("request", "request_not_supported"),
                        ("request_uri", "request_uri_not_supported")):
        value = UNSIGNED if name == "request" else "https://rp.example/req.jwt"
        answer = flow.authorize(rp, **{name: value})
        assert answer.status_code == 302 and answer.location.startswith(rp.redirect_uri)
        params = query(answer.location)
        assert params["error"] == error and params["state"] == "st-123"
        assert params["iss"] == "http://localhost"


def test_a_request_object_from_an_unknown_client_or_redirect_gets_our_page(flow, rp, make):
    stranger = make.oidc_client(redirect_uris=["https://other.example/cb"])
    stranger.client_id = "nobody"
    unknown = flow.authorize(stranger, request=UNSIGNED)
    assert unknown.status_code == 400 and "Demande de connexion invalide" in unknown.text
    rp.redirect_uri = "https://evil.example/cb"
    unregistered = flow.authorize(rp, request=UNSIGNED)
    assert unregistered.status_code == 400 and "Demande de connexion invalide" in unregistered.text


def test_discovery_says_what_is_supported(client):
    doc = client.get("/.well-known/openid-configuration").json
    assert doc["request_parameter_supported"] is False
    assert doc["request_uri_parameter_supported"] is False
    assert doc["claims_parameter_supported"] is True
    assert doc["acr_values_supported"] == ["pwd", "mfa"]
    assert "acr" in doc["claims_supported"]


def test_acr_says_password_alone_or_second_factor(app, flow, client, rp, make):
    plain = make.account()
    assert id_token_claims(client, flow.tokens_for(rp, plain))["acr"] == "pwd"
    guarded = make.account(with_second_factor=True)
    other = Flow(Browser(app.test_client()), client)
    done = other.browser.sign_in(guarded, start=other.authorize(rp), steps=True)
    assert done.status_code == 302 and done.location.startswith(rp.redirect_uri)
    claims = id_token_claims(client, other.token(rp, query(done.location)["code"]).json)
    assert claims["acr"] == "mfa" and "mfa" in claims["amr"]


def test_acr_values_mfa_sets_the_factor_up_inside_the_step(flow, client, rp, parent):
    start = flow.authorize(rp, acr_values="mfa")
    page = flow.browser.sign_in(parent, start=start)
    assert page.status_code == 200 and page.request.path == "/connexion/verification"
    assert "Ce service demande" in page.text and "Activer et continuer" in page.text
    wrong = flow.browser.submit_page({"code": "000000"})
    assert wrong.status_code == 400 and "Code incorrect" in wrong.text
    # The secret drawn for this enrolment, shown grouped for typing by hand.
    secret = re.search(r'id="secret-text">[^<]*<code>([A-Z2-7 ]+)</code>', wrong.text)[1]
    codes = flow.browser.submit_page({"code": pyotp.TOTP(secret.replace(" ", "")).now()})
    assert codes.status_code == 200 and "codes de secours" in codes.text
    done = flow.browser.get(re.search(r'<a class="button" href="([^"]+)"', codes.text)[1],
                            follow=False)
    assert done.status_code == 302 and done.location.startswith(rp.redirect_uri)
    token = flow.token(rp, query(done.location)["code"]).json
    assert id_token_claims(client, token)["acr"] == "mfa"


def test_acr_values_the_account_cannot_meet_without_a_page(flow, rp, parent):
    flow.code_for(rp, parent)  # signed in, password alone
    passive = flow.authorize(rp, acr_values="mfa", prompt="none")
    assert query(passive.location)["error"] == "unmet_authentication_requirements"
    either = flow.authorize(rp, acr_values="mfa pwd", prompt="none")
    assert "code" in query(either.location)  # the password is accepted too


def test_acr_values_nobody_offers(flow, rp):
    answer = flow.authorize(rp, acr_values="eidas1")
    params = query(answer.location)
    assert params["error"] == "unmet_authentication_requirements"
    assert params["state"] == "st-123"


def test_claims_parameter_within_the_registered_scopes(app, flow, client, rp, parent, make):
    asked = json.dumps({"userinfo": {"name": {"essential": True}, "email": None,
                                     "shoe_size": None},
                        "id_token": {"given_name": None}})
    token = flow.tokens_for(rp, parent, scope="openid", claims=asked)
    with app.app_context():
        account = db.session.get(Account, parent.id)
        name, first, email = account.display_name, account.first_name, account.email
    info = userinfo(client, token)
    assert info["name"] == name and info["email"] == email
    assert "shoe_size" not in info and "given_name" not in info  # unknown; asked elsewhere
    assert id_token_claims(client, token)["given_name"] == first
    # Carried through a rotation of the refresh token.
    refreshed = client.post("/oidc/token", data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(rp.client_id, rp.client_secret)).json
    assert userinfo(client, refreshed)["name"] == info["name"]
    # A client registered for openid alone gets none of them.
    narrow = make.oidc_client(redirect_uris=["https://narrow.example/cb"], scopes=["openid"])
    bare = userinfo(client, flow.tokens_for(narrow, parent, scope="openid", claims=asked))
    assert set(bare) == {"sub"}


def test_a_malformed_claims_parameter(flow, rp):
    for raw in ("{not json", "[1, 2]", '{"userinfo": ["name"]}', '{"userinfo": {"name": 3}}'):
        params = query(flow.authorize(rp, claims=raw).location)
        assert params["error"] == "invalid_request" and params["state"] == "st-123", raw
