"""The authorization_code grant's fast path (idp/oidc/code_fast_path.py): it redeems clean,
valid codes itself, with the tokens Authlib would issue, and hands every other request to
Authlib with the code left as it was."""
from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import func, select, update

from idp.db import db
from idp.models import Account, AccountState, RefreshToken
from idp.oidc.tokens import find_access_token


@pytest.fixture
def fast(app):
    """The middleware in front of the app (its `answered` counter)."""
    return app.wsgi_app


@pytest.fixture
def saved(monkeypatch):
    """The access tokens the fast path writes to the store, in order."""
    from idp.oidc import tokens

    values, save = [], tokens.save_access_token
    monkeypatch.setattr(tokens, "save_access_token",
                        lambda value, **kw: (values.append(value), save(value, **kw)))
    return values


def _claims(client, id_token):
    decoded = jwt.decode(id_token, KeySet.import_key_set(client.get("/oidc/jwks").json))
    return decoded.header, decoded.claims


def _refresh_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RefreshToken))


def test_a_clean_redemption_is_answered_with_what_authlib_issues(flow, rp, parent, client,
                                                                  fast, monkeypatch):
    before = fast.answered
    ours = flow.tokens_for(rp, parent, nonce="n-fast")
    assert fast.answered == before + 1
    monkeypatch.setattr(fast, "grants", {})  # everything goes to Authlib
    theirs = flow.tokens_for(rp, parent, nonce="n-authlib")
    assert fast.answered == before + 1
    assert set(ours) == set(theirs) == {"token_type", "access_token", "expires_in",
                                        "refresh_token", "scope", "id_token"}
    assert {k: ours[k] for k in ("token_type", "expires_in", "scope")} == \
        {k: theirs[k] for k in ("token_type", "expires_in", "scope")}
    (our_header, our_claims), (their_header, their_claims) = \
        _claims(client, ours["id_token"]), _claims(client, theirs["id_token"])
    assert our_header == their_header and our_header["alg"] == "RS256"
    assert set(our_claims) == set(their_claims)
    same = ("iss", "aud", "sub", "sid", "auth_time", "amr")
    assert {k: our_claims[k] for k in same} == {k: their_claims[k] for k in same}
    assert our_claims["sub"] == parent.public_id and our_claims["nonce"] == "n-fast"
    # What it issued works: userinfo with the access token, a rotation with the refresh one.
    userinfo = client.get("/oidc/userinfo",
                          headers={"Authorization": "Bearer " + ours["access_token"]})
    assert userinfo.status_code == 200 and userinfo.json["sub"] == parent.public_id
    renewed = client.post("/oidc/token", data={"grant_type": "refresh_token",
                                               "refresh_token": ours["refresh_token"]},
                          auth=(rp.client_id, rp.client_secret))
    assert renewed.status_code == 200


def test_post_public_pairwise_and_es256_clients(flow, make, parent, client, fast):
    post = make.oidc_client(redirect_uris=["https://post.example/cb"],
                            token_auth_method="client_secret_post")
    public = make.oidc_client(public=True, redirect_uris=["http://127.0.0.1:8765/cb"])
    pairwise = make.oidc_client(redirect_uris=["https://pairwise.example/cb"], pairwise=True,
                                id_token_alg="ES256")
    for rp, credentials, auth in (
            (post, {"client_id": post.client_id, "client_secret": post.client_secret}, None),
            (public, {"client_id": public.client_id}, None),
            (pairwise, {}, (pairwise.client_id, pairwise.client_secret))):
        code = flow.code_for(rp, parent)["code"]
        before = fast.answered
        answer = client.post("/oidc/token", auth=auth, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": flow.verifier, **credentials})
        assert answer.status_code == 200 and fast.answered == before + 1, rp.client_id
        header, claims = _claims(client, answer.json["id_token"])
        userinfo = client.get("/oidc/userinfo", headers={
            "Authorization": "Bearer " + answer.json["access_token"]}).json
        assert claims["sub"] == userinfo["sub"]
        if rp is pairwise:
            assert header["alg"] == "ES256" and claims["sub"] != parent.public_id


def test_bad_client_authentication_leaves_the_code_usable(flow, rp, parent, make, client,
                                                          fast):
    code = flow.code_for(rp, parent)["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": flow.verifier}
    before = fast.answered
    wrong = client.post("/oidc/token", data=data, auth=(rp.client_id, "not-the-secret"))
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_client"
    unknown = client.post("/oidc/token", data=data, auth=("no-such-client", rp.client_secret))
    assert unknown.status_code == 401
    as_public = client.post("/oidc/token", data={**data, "client_id": rp.client_id})
    assert as_public.json["error"] == "invalid_client"
    assert fast.answered == before
    assert client.post("/oidc/token", data=data,
                       auth=(rp.client_id, rp.client_secret)).status_code == 200


@pytest.mark.parametrize("change, error", [
    ({"redirect_uri": "https://ent.example/other"}, "invalid_grant"),
    ({"code_verifier": "x" * 50}, "invalid_grant"),
    ({"code_verifier": None}, "invalid_request"),
    ({"code_verifier": "short"}, "invalid_request"),
    ({"redirect_uri": None}, "invalid_grant"),
])
def test_a_code_that_does_not_match_goes_to_authlib(flow, rp, parent, client, fast, change,
                                                    error):
    code = flow.code_for(rp, parent)["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": flow.verifier, **change}
    before = fast.answered
    answer = client.post("/oidc/token", data={k: v for k, v in data.items() if v is not None},
                         auth=(rp.client_id, rp.client_secret))
    assert answer.status_code == 400 and answer.json["error"] == error
    assert fast.answered == before


def test_unusual_requests_go_to_authlib(flow, rp, parent, client, fast):
    auth = (rp.client_id, rp.client_secret)
    before = fast.answered
    code = flow.code_for(rp, parent)["code"]
    repeated = client.post("/oidc/token", auth=auth, content_type=(
        "application/x-www-form-urlencoded"), data=(
        f"grant_type=authorization_code&code={code}&code={code}"
        f"&code_verifier={flow.verifier}"))
    assert repeated.status_code == 400 and repeated.json["error"] == "invalid_request"
    extra = client.post("/oidc/token", auth=auth, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
        "code_verifier": flow.verifier, "scope": "openid"})
    assert extra.status_code == 200  # Authlib ignores the scope of a code grant
    assert fast.answered == before


def test_replay_of_a_fast_redemption_revokes_what_it_issued(app, flow, rp, parent, client,
                                                            fast):
    code = flow.code_for(rp, parent)["code"]
    first = flow.token(rp, code)
    before = fast.answered
    replay = flow.token(rp, code)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    assert fast.answered == before  # Authlib answered the replay
    userinfo = client.get("/oidc/userinfo",
                          headers={"Authorization": "Bearer " + first.json["access_token"]})
    assert userinfo.status_code == 401


def test_an_account_deactivated_since_the_code_gets_invalid_grant(app, flow, rp, parent,
                                                                  fast, saved):
    code = flow.code_for(rp, parent)["code"]
    with app.app_context():
        db.session.execute(update(Account).where(Account.id == parent.id)
                           .values(state=AccountState.deactivated))
        db.session.commit()
    rows, before = _refresh_rows(app), fast.answered
    answer = flow.token(rp, code)
    assert answer.status_code == 400 and answer.json == {
        "error": "invalid_grant", "error_description": "There is no 'user' for this code."}
    assert fast.answered == before + 1 and _refresh_rows(app) == rows
    assert answer.headers["Cache-Control"] == "no-store"
    with app.app_context():  # the access token written before the statement is gone
        assert len(saved) == 1 and find_access_token(saved[0]) is None


def test_a_store_failure_after_the_code_is_taken_keeps_nothing(app, flow, rp, parent,
                                                              client, monkeypatch):
    from idp.oidc import tokens

    code = flow.code_for(rp, parent)["code"]
    rows = _refresh_rows(app)

    def store_down(*_args, **_kwargs):
        raise ConnectionError("store unreachable")

    monkeypatch.setattr(tokens, "save_access_token", store_down)
    answer = flow.token(rp, code)
    assert answer.status_code == 503 and answer.json["error"] == "temporarily_unavailable"
    assert _refresh_rows(app) == rows  # the store failed first: nothing was inserted


def test_a_database_failure_after_the_code_is_taken_keeps_nothing(app, flow, rp, parent,
                                                                 fast, saved, monkeypatch):
    from idp.oidc import code_fast_path
    code = flow.code_for(rp, parent)["code"]
    rows = _refresh_rows(app)

    def database_down(*_args, **_kwargs):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(fast, "run_pg_alone", database_down)  # PostgreSQL
    monkeypatch.setattr(code_fast_path.db.engine, "begin", database_down)  # SQLite
    answer = flow.token(rp, code)
    assert answer.status_code == 503 and answer.json["error"] == "temporarily_unavailable"
    monkeypatch.undo()
    assert _refresh_rows(app) == rows
    with app.app_context():  # the access token written before the statement is gone
        assert len(saved) == 1 and find_access_token(saved[0]) is None
