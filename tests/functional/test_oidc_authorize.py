"""Authorization endpoint rules (SECURITY.md, OpenID Connect)."""
from __future__ import annotations

import pytest

from ..support.oidc import authorize_params, pkce_pair, query


def _authorize(client, params):
    return client.get("/oidc/authorize", query_string=params)


def test_full_flow_echoes_state_and_iss(flow, rp, parent):
    result = flow.code_for(rp, parent)
    assert result["state"] == "st-123"
    assert result["iss"] == "http://localhost"
    assert len(result["code"]) >= 32


def test_unknown_client_gets_our_page_not_a_redirect(client, rp):
    _, challenge = pkce_pair()
    params = authorize_params(rp, challenge=challenge, client_id="nope")
    response = _authorize(client, params)
    assert response.status_code == 400
    assert response.location is None
    assert "Demande de connexion invalide" in response.text


def test_unregistered_redirect_uri_is_never_followed(client, rp):
    _, challenge = pkce_pair()
    for uri in ("https://evil.example/callback", "https://ent.example/callback/../x",
                "https://ent.example/callback?x=1", "https://ent.example/callbackx",
                "HTTPS://ENT.EXAMPLE/callback"):
        response = _authorize(client, authorize_params(rp, challenge=challenge, redirect_uri=uri))
        assert response.status_code == 400, uri
        assert response.location is None


def test_missing_redirect_uri_is_an_error_when_several_are_registered(client, make):
    rp = make.oidc_client(redirect_uris=["https://a.example/cb", "https://b.example/cb"])
    _, challenge = pkce_pair()
    response = _authorize(client, authorize_params(rp, challenge=challenge, redirect_uri=None))
    assert response.status_code == 400 and response.location is None


def test_missing_redirect_uri_uses_the_single_registered_one(flow, rp, parent):
    result = flow.code_for(rp, parent, redirect_uri=None)
    assert "code" in result
    # No redirect_uri was sent, so none is needed at the token endpoint.
    response = flow.client.post("/oidc/token", data={
        "grant_type": "authorization_code", "code": result["code"],
        "code_verifier": flow.verifier}, auth=(rp.client_id, rp.client_secret))
    assert response.status_code == 200


def test_pkce_plain_is_refused(client, rp):
    verifier, _ = pkce_pair()
    params = authorize_params(rp, code_challenge=verifier, code_challenge_method="plain")
    response = _authorize(client, params)
    assert response.status_code == 302
    assert query(response.location)["error"] == "invalid_request"
    assert query(response.location)["iss"] == "http://localhost"


def test_pkce_without_method_is_refused(client, rp):
    _, challenge = pkce_pair()
    response = _authorize(client, authorize_params(rp, code_challenge=challenge))
    assert query(response.location)["error"] == "invalid_request"


def test_pkce_is_required_for_public_clients(client, make):
    public = make.oidc_client(public=True, redirect_uris=["http://127.0.0.1:8765/cb"])
    response = _authorize(client, authorize_params(public))
    assert query(response.location)["error"] == "invalid_request"
    assert "PKCE" in query(response.location)["error_description"]


def test_implicit_and_hybrid_flows_are_refused(client, rp):
    for response_type in ("token", "id_token", "code id_token", "id_token token"):
        params = authorize_params(rp, response_type=response_type)
        response = _authorize(client, params)
        assert response.status_code in (302, 400)
        if response.status_code == 302:
            assert query(response.location)["error"] == "unsupported_response_type"


def test_malformed_parameters_never_500(client, rp):
    _, challenge = pkce_pair()
    cases = [
        {"max_age": "abc"}, {"max_age": "-1"}, {"scope": "x" * 5000}, {"prompt": "none login"},
        {"client_id": "x" * 500}, {"state": "é" * 100}, {"code_challenge": "short"},
    ]
    for extra in cases:
        response = _authorize(client, authorize_params(rp, challenge=challenge, **extra))
        assert response.status_code in (302, 400), extra


def test_duplicated_parameters_are_refused(client, rp):
    _, challenge = pkce_pair()
    params = list(authorize_params(rp, challenge=challenge).items()) + [("state", "other")]
    response = client.get("/oidc/authorize", query_string=params)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert query(response.location)["error"] == "invalid_request"


def test_prompt_none_without_session_gives_login_required(client, rp):
    _, challenge = pkce_pair()
    response = _authorize(client, authorize_params(rp, challenge=challenge, prompt="none"))
    result = query(response.location)
    assert result["error"] == "login_required"
    assert result["state"] == "st-123" and result["iss"] == "http://localhost"


def test_prompt_none_with_session_issues_a_code_silently(flow, rp, parent, make):
    flow.code_for(rp, parent)
    other = make.oidc_client(redirect_uris=["https://pronote.example/cb"])
    response = flow.authorize(other, prompt="none")
    assert response.status_code == 302 and "code" in query(response.location)


def test_second_rp_needs_no_password(flow, rp, parent, make):
    flow.code_for(rp, parent)
    other = make.oidc_client(redirect_uris=["https://pronote.example/cb"])
    response = flow.authorize(other)
    assert response.status_code == 302
    assert "code" in query(response.location)


def test_prompt_login_forces_a_fresh_sign_in(flow, rp, parent):
    flow.code_for(rp, parent)
    page = flow.authorize(rp, prompt="login")
    assert page.request.path == "/connexion"
    assert "code" in flow.code_for(rp, parent, prompt="login")


def test_max_age_forces_a_fresh_sign_in_when_exceeded(flow, rp, parent, browser):
    flow.code_for(rp, parent)
    with browser.client.session_transaction() as sess:
        sess["auth_time"] = sess["auth_time"] - 120
    assert flow.authorize(rp, max_age="60").request.path == "/connexion"
    assert flow.authorize(rp, max_age="3600").status_code == 302


def test_login_hint_prefills_the_identifier(flow, rp):
    flow.browser.choose()
    page = flow.authorize(rp, login_hint="p.dupont12")
    assert 'value="p.dupont12"' in page.text


def test_ui_locales_switches_to_english(flow, rp):
    page = flow.authorize(rp, ui_locales="en-GB fr")
    assert '<html lang="en">' in page.text


def test_wayf_hint_from_the_rp_skips_the_choice(flow, rp):
    page = flow.authorize(rp, profile_hint="pupil", academy_hint="reims")
    assert page.request.path == "/connexion"
    assert "Reims" in page.text


def test_jumping_to_continue_issues_nothing(browser, parent):
    """/continue, where the plan answers a request, with none pending: home, no code."""
    browser.sign_in(parent.identifier, parent.password)
    response = browser.client.get("/continue")
    assert response.status_code == 302 and response.location.endswith("/")
    assert "code=" not in response.location


def test_disabled_client_stops_at_once(app, flow, rp, parent):
    from idp.db import db
    from idp.models import OIDCClient

    with app.app_context():
        db.session.query(OIDCClient).update({"enabled": False})
        db.session.commit()
    assert flow.authorize(rp).status_code == 400


@pytest.mark.parametrize("how", ["attribute", "update_statement", "query_update"])
def test_a_client_disabled_after_use_stops_at_once(app, flow, rp, parent, how):
    """Clients are cached per process between requests (idp/oidc/client_cache.py): any
    change committed through the application makes every process read them again."""
    from sqlalchemy import select, update

    from idp.db import db
    from idp.models import OIDCClient

    assert flow.authorize(rp).status_code == 200  # the client is now cached
    with app.app_context():
        if how == "attribute":
            db.session.scalar(select(OIDCClient)).enabled = False
        elif how == "update_statement":
            db.session.execute(update(OIDCClient).values(enabled=False))
        else:
            db.session.query(OIDCClient).update({"enabled": False})
        db.session.commit()
    assert flow.authorize(rp).status_code == 400


def test_discovery_document(client):
    doc = client.get("/.well-known/openid-configuration").json
    assert doc["issuer"] == "http://localhost"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert "password" not in doc["grant_types_supported"]
    assert "none" not in doc["id_token_signing_alg_values_supported"]
    assert "registration_endpoint" not in doc
    assert doc["authorization_response_iss_parameter_supported"] is True


def test_a_reused_nonce_is_refused(flow, rp, parent):
    flow.code_for(rp, parent, nonce="same-nonce")
    response = flow.authorize(rp, nonce="same-nonce")
    assert query(response.location)["error"] == "invalid_request"


def test_max_age_zero_asks_once_and_then_issues(flow, rp, parent):
    flow.code_for(rp, parent)
    assert flow.authorize(rp, max_age="0").request.path == "/connexion"
    assert "code" in flow.code_for(rp, parent, max_age="0")
