"""Token endpoint, ID token, userinfo, revocation and introspection rules."""
from __future__ import annotations

import threading
import time

from joserfc import jwt
from joserfc.jwk import KeySet

from idp.db import db
from idp.models import OIDCClient


def _jwks(client):
    return KeySet.import_key_set(client.get("/oidc/jwks").json)


def test_id_token_is_signed_and_carries_the_request(flow, rp, parent, client):
    tokens = flow.tokens_for(rp, parent, nonce="n-42")
    decoded = jwt.decode(tokens["id_token"], _jwks(client), algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256" and decoded.header["kid"]
    claims = decoded.claims
    assert claims["iss"] == "http://localhost"
    assert claims["aud"] == [rp.client_id]
    assert claims["nonce"] == "n-42"
    assert claims["sub"] == parent.public_id
    assert claims["sid"] and claims["auth_time"] and claims["at_hash"]
    assert claims["exp"] - claims["iat"] <= 300


def test_es256_id_tokens_for_clients_that_ask(flow, make, parent, client):
    rp = make.oidc_client(redirect_uris=["https://es.example/cb"], id_token_alg="ES256")
    tokens = flow.tokens_for(rp, parent)
    decoded = jwt.decode(tokens["id_token"], _jwks(client), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"


def test_code_is_single_use_and_replay_revokes_what_it_issued(flow, rp, parent, client):
    code = flow.code_for(rp, parent)["code"]
    first = flow.token(rp, code)
    assert first.status_code == 200
    replay = flow.token(rp, code)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    # What the first redemption issued is revoked.
    userinfo = client.get("/oidc/userinfo",
                          headers={"Authorization": "Bearer " + first.json["access_token"]})
    assert userinfo.status_code == 401
    refresh = client.post("/oidc/token", data={"grant_type": "refresh_token",
                                               "refresh_token": first.json["refresh_token"]},
                          auth=(rp.client_id, rp.client_secret))
    assert refresh.status_code == 400


def test_concurrent_redemptions_exactly_one_wins(app, flow, rp, parent):
    code = flow.code_for(rp, parent)["code"]
    results = []

    def redeem():
        with app.test_client() as c:
            results.append(c.post("/oidc/token", data={
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": rp.redirect_uri, "code_verifier": flow.verifier},
                auth=(rp.client_id, rp.client_secret)).status_code)

    threads = [threading.Thread(target=redeem) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 400, 400, 400, 400, 400]


def test_code_expires_after_its_lifetime(app, flow, rp, parent, monkeypatch):
    monkeypatch.setitem(app.config, "AUTHORIZATION_CODE_SECONDS", 1)
    code = flow.code_for(rp, parent)["code"]
    time.sleep(1.3)
    assert flow.token(rp, code).json["error"] == "invalid_grant"


def test_default_code_lifetime_is_at_most_60_seconds(app):
    assert app.config["AUTHORIZATION_CODE_SECONDS"] <= 60


def test_code_is_bound_to_its_client(flow, rp, parent, make):
    other = make.oidc_client(redirect_uris=["https://other.example/cb"])
    code = flow.code_for(rp, parent)["code"]
    response = flow.client.post("/oidc/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
        "code_verifier": flow.verifier}, auth=(other.client_id, other.client_secret))
    assert response.json["error"] == "invalid_grant"


def test_code_is_bound_to_its_redirect_uri(flow, rp, parent):
    code = flow.code_for(rp, parent)["code"]
    response = flow.token(rp, code, redirect_uri="https://ent.example/other")
    assert response.json["error"] == "invalid_grant"


def test_wrong_code_verifier_is_refused(flow, rp, parent):
    code = flow.code_for(rp, parent)["code"]
    response = flow.token(rp, code, code_verifier="x" * 50)
    assert response.json["error"] == "invalid_grant"


def test_missing_code_verifier_is_refused(flow, rp, parent):
    code = flow.code_for(rp, parent)["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri}
    response = flow.client.post("/oidc/token", data=data, auth=(rp.client_id, rp.client_secret))
    assert response.json["error"] == "invalid_request"


def test_bad_client_authentication(flow, rp, parent):
    code = flow.code_for(rp, parent)["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": flow.verifier}
    wrong = flow.client.post("/oidc/token", data=data, auth=(rp.client_id, "wrong-secret"))
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_client"
    # A client registered for client_secret_basic cannot switch to client_secret_post.
    post = flow.client.post("/oidc/token", data={**data, "client_id": rp.client_id,
                                                 "client_secret": rp.client_secret})
    assert post.json["error"] == "invalid_client"
    none = flow.client.post("/oidc/token", data={**data, "client_id": rp.client_id})
    assert none.json["error"] == "invalid_client"


def test_client_secret_post_clients(flow, make, parent):
    rp = make.oidc_client(redirect_uris=["https://post.example/cb"],
                          token_auth_method="client_secret_post")
    code = flow.code_for(rp, parent)["code"]
    response = flow.client.post("/oidc/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
        "code_verifier": flow.verifier, "client_id": rp.client_id,
        "client_secret": rp.client_secret})
    assert response.status_code == 200


def test_public_client_with_pkce(flow, make, parent):
    rp = make.oidc_client(public=True, redirect_uris=["http://127.0.0.1:8765/cb"])
    code = flow.code_for(rp, parent)["code"]
    response = flow.client.post("/oidc/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
        "code_verifier": flow.verifier, "client_id": rp.client_id})
    assert response.status_code == 200 and response.json["id_token"]


def test_password_and_client_credentials_grants_are_refused(client, rp, parent):
    for grant in ("password", "client_credentials", "implicit"):
        response = client.post("/oidc/token", data={
            "grant_type": grant, "username": parent.identifier, "password": parent.password},
            auth=(rp.client_id, rp.client_secret))
        assert response.status_code == 400
        assert response.json["error"] == "unsupported_grant_type"


def test_refresh_tokens_rotate_and_reuse_revokes_the_grant(flow, rp, parent, client):
    tokens = flow.tokens_for(rp, parent)

    def refresh(value):
        return client.post("/oidc/token", data={"grant_type": "refresh_token",
                                                "refresh_token": value},
                           auth=(rp.client_id, rp.client_secret))

    second = refresh(tokens["refresh_token"])
    assert second.status_code == 200
    assert second.json["refresh_token"] != tokens["refresh_token"]
    # The rotated-out token is presented again: reuse, the whole grant dies.
    assert refresh(tokens["refresh_token"]).json["error"] == "invalid_grant"
    assert refresh(second.json["refresh_token"]).json["error"] == "invalid_grant"
    userinfo = client.get("/oidc/userinfo",
                          headers={"Authorization": "Bearer " + second.json["access_token"]})
    assert userinfo.status_code == 401


def test_refresh_token_belongs_to_its_client(flow, rp, parent, make, client):
    tokens = flow.tokens_for(rp, parent)
    other = make.oidc_client(redirect_uris=["https://other.example/cb"])
    response = client.post("/oidc/token", data={"grant_type": "refresh_token",
                                                "refresh_token": tokens["refresh_token"]},
                           auth=(other.client_id, other.client_secret))
    assert response.json["error"] == "invalid_grant"


def test_userinfo_by_header_or_body_get_or_post(flow, rp, parent, client):
    access = flow.tokens_for(rp, parent)["access_token"]
    by_header = client.get("/oidc/userinfo", headers={"Authorization": f"Bearer {access}"})
    by_post = client.post("/oidc/userinfo", headers={"Authorization": f"Bearer {access}"})
    by_body = client.post("/oidc/userinfo", data={"access_token": access})
    assert by_header.json == by_post.json == by_body.json
    info = by_header.json
    assert info["sub"] == parent.public_id
    assert info["profile"] == "parent" and info["affiliation"] == "resp2d"
    assert info["school_uai"] == "0540042A" and info["academy"] == "nancy-metz"
    assert [p["class"] for p in info["pupils"]] == ["5e A"]
    assert client.get("/oidc/userinfo").status_code == 401
    bad = client.get("/oidc/userinfo", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and "invalid_token" in bad.headers["WWW-Authenticate"]


def test_claims_follow_the_scopes_registered_for_the_client(flow, make, parent, client):
    rp = make.oidc_client(redirect_uris=["https://min.example/cb"], scopes=["openid"])
    tokens = flow.tokens_for(rp, parent, scope="openid profile email education")
    assert tokens["scope"] == "openid"
    info = client.get("/oidc/userinfo",
                      headers={"Authorization": "Bearer " + tokens["access_token"]}).json
    assert set(info) == {"sub"}


def test_pairwise_subject_differs_per_client_and_is_stable(flow, make, parent, client):
    a = make.oidc_client(redirect_uris=["https://a.example/cb"], pairwise=True)
    b = make.oidc_client(redirect_uris=["https://b.example/cb"], pairwise=True)
    sub_a = jwt.decode(flow.tokens_for(a, parent)["id_token"], _jwks(client)).claims["sub"]
    sub_b = jwt.decode(flow.tokens_for(b, parent)["id_token"], _jwks(client)).claims["sub"]
    again = jwt.decode(flow.tokens_for(a, parent)["id_token"], _jwks(client)).claims["sub"]
    assert sub_a != sub_b and sub_a == again and parent.public_id not in (sub_a, sub_b)


def test_revocation_of_access_and_refresh_tokens(flow, rp, parent, client):
    tokens = flow.tokens_for(rp, parent)
    auth = (rp.client_id, rp.client_secret)
    assert client.post("/oidc/revoke", data={"token": tokens["access_token"]},
                       auth=auth).status_code == 200
    assert client.get("/oidc/userinfo", headers={
        "Authorization": "Bearer " + tokens["access_token"]}).status_code == 401
    assert client.post("/oidc/revoke", data={"token": tokens["refresh_token"],
                                             "token_type_hint": "refresh_token"},
                       auth=auth).status_code == 200
    refresh = client.post("/oidc/token", data={"grant_type": "refresh_token",
                                               "refresh_token": tokens["refresh_token"]}, auth=auth)
    assert refresh.json["error"] == "invalid_grant"
    # Unknown tokens are answered 200 too (RFC 7009 2.2): nothing to learn.
    assert client.post("/oidc/revoke", data={"token": "unknown"}, auth=auth).status_code == 200


def test_introspection(flow, rp, parent, client, make):
    tokens = flow.tokens_for(rp, parent)
    auth = (rp.client_id, rp.client_secret)
    active = client.post("/oidc/introspect", data={"token": tokens["access_token"]}, auth=auth).json
    assert active["active"] is True and active["sub"] == parent.public_id
    assert active["client_id"] == rp.client_id
    refresh = client.post("/oidc/introspect", data={"token": tokens["refresh_token"]},
                          auth=auth).json
    assert refresh["active"] is True
    assert client.post("/oidc/introspect", data={"token": "nope"}, auth=auth).json == {
        "active": False}
    other = make.oidc_client(redirect_uris=["https://other.example/cb"])
    foreign = client.post("/oidc/introspect", data={"token": tokens["access_token"]},
                          auth=(other.client_id, other.client_secret))
    assert foreign.json.get("active") is not True
    anonymous = client.post("/oidc/introspect", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 401


def test_client_secrets_are_random_and_stored_hashed(app, rp):
    assert len(rp.client_secret) >= 43  # 256 bits, base64url
    with app.app_context():
        row = db.session.query(OIDCClient).filter_by(client_id=rp.client_id).one()
        assert rp.client_secret not in (row.secret_hash or "")
        assert len(row.secret_hash) == 64


def test_token_endpoint_rejects_garbage_without_500(client, rp):
    auth = (rp.client_id, rp.client_secret)
    for data in ({}, {"grant_type": "authorization_code"},
                 {"grant_type": "authorization_code", "code": "x" * 5000},
                 {"grant_type": "refresh_token", "refresh_token": "x" * 5000},
                 {"grant_type": "refresh_token"}):
        response = client.post("/oidc/token", data=data, auth=auth)
        assert 400 <= response.status_code < 500, data


def test_id_token_carries_no_personal_claims(flow, rp, parent, client):
    """Minors' data stay out of the ID token (it travels in URLs as id_token_hint)."""
    claims = jwt.decode(flow.tokens_for(rp, parent)["id_token"], _jwks(client)).claims
    assert not {"name", "email", "pupils", "family_name", "class"} & set(claims)


def test_refresh_reuse_and_code_replay_are_audited(app, flow, rp, parent, client):
    from idp.models import AuditEvent

    code = flow.code_for(rp, parent)["code"]
    tokens = flow.token(rp, code).json
    flow.token(rp, code)
    auth = (rp.client_id, rp.client_secret)
    other = flow.tokens_for(rp, parent)
    client.post("/oidc/token", data={"grant_type": "refresh_token",
                                     "refresh_token": other["refresh_token"]}, auth=auth)
    client.post("/oidc/token", data={"grant_type": "refresh_token",
                                     "refresh_token": other["refresh_token"]}, auth=auth)
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEvent).all()]
    assert "authorization_code_replay_revoked_grant" in actions
    assert "refresh_token_reuse_revoked_grant" in actions
    assert tokens["access_token"] not in str(actions)
