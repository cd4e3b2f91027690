"""Issue 22 as an independent client sees it (Authlib's OAuth2Session over real HTTP,
the IdP under gunicorn): request objects refused on the redirect URI, `acr` in the
verified ID token, the `claims` parameter honoured by userinfo and the ID token."""
from __future__ import annotations

import json

import pytest

from tests.support.oidc import query
from tests.support.served import HttpBrowser

from .test_oidc_interop import (authorize, family, meta, new_client, redeem,  # noqa: F401
                                rp_session, verify_id_token)

pytestmark = pytest.mark.interop


def test_a_request_object_is_answered_request_not_supported(make, meta):  # noqa: F811
    rp, browser = new_client(make), HttpBrowser()
    session = rp_session(rp)
    url, state = session.create_authorization_url(
        meta["authorization_endpoint"], request="eyJhbGciOiJub25lIn0.e30.")
    browser.open(url, stop_at=session.redirect_uri)
    params = query(browser.url)
    assert params["error"] == "request_not_supported" and params["state"] == state
    assert meta["request_parameter_supported"] is False


def test_acr_and_the_claims_parameter(make, meta, family):  # noqa: F811
    rp, browser = new_client(make), HttpBrowser()
    session = rp_session(rp)
    session.scope = "openid"
    asked = {"userinfo": {"preferred_username": {"essential": True}},
             "id_token": {"family_name": None}}
    front = authorize(browser, session, meta, family, claims=json.dumps(asked),
                      acr_values="pwd")
    token = redeem(session, meta, front)
    claims = verify_id_token(token, meta, rp.client_id, front["nonce"])
    assert claims["acr"] == "pwd" and claims["acr"] in meta["acr_values_supported"]
    assert claims.get("family_name")
    info = session.get(meta["userinfo_endpoint"]).json()
    assert info["preferred_username"] == family.identifier and "email" not in info
