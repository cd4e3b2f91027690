"""The authorization_code grant through Authlib's grant (idp/oidc/grants.py) and its
hooks: the code is taken from the store atomically (take_matching: issued to this client,
single use), the refresh token inserted by one statement, the access token stored; a
failure of the database or the store keeps nothing (503)."""
from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from idp.db import db
from idp.models import Account, AccountState, AuditEvent, RefreshToken
from idp.oidc.tokens import find_access_token
from ..support.sql import listen, unlisten


@pytest.fixture
def saved(monkeypatch):
    """The access tokens the token endpoint writes to the store, in order."""
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


def test_a_redemption_issues_what_the_flow_expects(flow, rp, parent, client):
    ours = flow.tokens_for(rp, parent, nonce="n-first")
    theirs = flow.tokens_for(rp, parent, nonce="n-second")  # same session, another code
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
    assert our_claims["sub"] == parent.public_id and our_claims["nonce"] == "n-first"
    # What it issued works: userinfo with the access token, a rotation with the refresh one.
    userinfo = client.get("/oidc/userinfo",
                          headers={"Authorization": "Bearer " + ours["access_token"]})
    assert userinfo.status_code == 200 and userinfo.json["sub"] == parent.public_id
    renewed = client.post("/oidc/token", data={"grant_type": "refresh_token",
                                               "refresh_token": ours["refresh_token"]},
                          auth=(rp.client_id, rp.client_secret))
    assert renewed.status_code == 200


def test_post_public_pairwise_and_es256_clients(flow, make, parent, client):
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
        answer = client.post("/oidc/token", auth=auth, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": flow.verifier, **credentials})
        assert answer.status_code == 200, rp.client_id
        header, claims = _claims(client, answer.json["id_token"])
        userinfo = client.get("/oidc/userinfo", headers={
            "Authorization": "Bearer " + answer.json["access_token"]}).json
        assert claims["sub"] == userinfo["sub"]
        if rp is pairwise:
            assert header["alg"] == "ES256" and claims["sub"] != parent.public_id


def test_bad_client_authentication_leaves_the_code_usable(flow, rp, parent, make, client):
    code = flow.code_for(rp, parent)["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": flow.verifier}
    wrong = client.post("/oidc/token", data=data, auth=(rp.client_id, "not-the-secret"))
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_client"
    unknown = client.post("/oidc/token", data=data, auth=("no-such-client", rp.client_secret))
    assert unknown.status_code == 401
    as_public = client.post("/oidc/token", data={**data, "client_id": rp.client_id})
    assert as_public.json["error"] == "invalid_client"
    # Another client cannot spend it either.
    other = make.oidc_client(redirect_uris=[rp.redirect_uri])
    theirs = client.post("/oidc/token", data=data, auth=(other.client_id, other.client_secret))
    assert theirs.status_code == 400 and theirs.json["error"] == "invalid_grant"
    assert client.post("/oidc/token", data=data,
                       auth=(rp.client_id, rp.client_secret)).status_code == 200


@pytest.mark.parametrize("change, error", [
    ({"redirect_uri": "https://ent.example/other"}, "invalid_grant"),
    ({"code_verifier": "x" * 50}, "invalid_grant"),
    ({"code_verifier": None}, "invalid_request"),
    ({"code_verifier": "short"}, "invalid_request"),
    ({"redirect_uri": None}, "invalid_grant"),
])
def test_a_code_that_does_not_match_is_refused(flow, rp, parent, client, change, error):
    code = flow.code_for(rp, parent)["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": flow.verifier, **change}
    answer = client.post("/oidc/token", data={k: v for k, v in data.items() if v is not None},
                         auth=(rp.client_id, rp.client_secret))
    assert answer.status_code == 400 and answer.json["error"] == error


def test_unusual_requests(flow, rp, parent, client):
    auth = (rp.client_id, rp.client_secret)
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


def test_replay_revokes_what_the_first_redemption_issued(app, flow, rp, parent, client):
    code = flow.code_for(rp, parent)["code"]
    first = flow.token(rp, code)
    replay = flow.token(rp, code)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "authorization_code_replay_revoked_grant" in actions
    userinfo = client.get("/oidc/userinfo",
                          headers={"Authorization": "Bearer " + first.json["access_token"]})
    assert userinfo.status_code == 401


def test_an_account_deactivated_since_the_code_gets_invalid_grant(app, flow, rp, parent,
                                                                  saved):
    code = flow.code_for(rp, parent)["code"]
    with app.app_context():
        db.session.execute(update(Account).where(Account.id == parent.id)
                           .values(state=AccountState.deactivated))
        db.session.commit()
    rows = _refresh_rows(app)
    answer = flow.token(rp, code)
    assert answer.status_code == 400 and answer.json == {
        "error": "invalid_grant", "error_description": "There is no 'user' for this code."}
    assert _refresh_rows(app) == rows
    assert answer.headers["Cache-Control"] == "no-store"
    with app.app_context():  # no access token was kept
        assert all(find_access_token(value) is None for value in saved)


def test_a_redemption_runs_one_statement_which_checks_the_account(flow, rp, parent, client,
                                                                    statements):
    """The code carries the account's public id: the refresh token's INSERT alone checks
    that the account is still active (no SELECT of the owner beside it)."""
    flow.tokens_for(rp, parent)  # warm caches (the client's, compiled statements)
    code = flow.code_for(rp, parent)["code"]
    statements.on = True
    answer = flow.token(rp, code)
    statements.on = False
    assert answer.status_code == 200
    assert len(statements.seen) == 1, [s[:60] for s in statements.seen]
    assert "INSERT INTO refresh_tokens" in statements.seen[0]
    assert "FROM accounts" in statements.seen[0]


def test_without_a_refresh_token_a_deactivated_account_still_gets_invalid_grant(
        app, flow, rp, parent, monkeypatch, saved):
    """Where no refresh token is issued (a client without the refresh_token grant), the
    owner's state is read on its own."""
    from idp.oidc.clients import Client

    monkeypatch.setattr(Client, "check_grant_type",
                        lambda self, grant_type: grant_type == "authorization_code")
    code = flow.code_for(rp, parent)["code"]
    with app.app_context():
        db.session.execute(update(Account).where(Account.id == parent.id)
                           .values(state=AccountState.deactivated))
        db.session.commit()
    answer = flow.token(rp, code)
    assert answer.status_code == 400 and answer.json == {
        "error": "invalid_grant", "error_description": "There is no 'user' for this code."}
    with app.app_context():
        assert all(find_access_token(value) is None for value in saved)


def test_a_code_stored_by_a_newer_release_is_still_redeemed(app, flow, rp, parent):
    """During a rolling reload a node may take a code a newer one stored, with a field
    it does not know: the field is left out, the code is redeemed."""
    from idp.extensions import store
    from idp.oidc.grants import _code_key

    code = flow.code_for(rp, parent)["code"]
    with app.app_context():
        entry = store().get(_code_key(code))
        store().set(_code_key(code), {**entry, "from_a_later_release": 1}, 60)
    assert flow.token(rp, code).status_code == 200


def test_a_code_stored_without_the_public_id_is_still_redeemed(app, flow, rp, parent, client):
    """Codes a node stored before they carried the public id (a rolling upgrade): the
    owner is read as before, and the ID token's sub is the same."""
    from idp.extensions import store
    from idp.oidc.grants import _code_key

    sub = _claims(client, flow.tokens_for(rp, parent)["id_token"])[1]["sub"]
    code = flow.code_for(rp, parent)["code"]
    with app.app_context():
        entry = store().get(_code_key(code))
        del entry["public_id"]
        store().set(_code_key(code), entry, 60)
    answer = flow.token(rp, code)
    assert answer.status_code == 200
    assert _claims(client, answer.json["id_token"])[1]["sub"] == sub


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
    assert answer.headers["Retry-After"] == "5"  # as every outage's 503
    assert _refresh_rows(app) == rows  # the refresh token inserted first was discarded


def test_a_database_failure_after_the_code_is_taken_keeps_nothing(app, flow, rp, parent,
                                                                 saved):
    code = flow.code_for(rp, parent)["code"]
    rows = _refresh_rows(app)

    def database_down(_conn, _cursor, statement, *_args):
        if statement.lstrip().startswith("INSERT INTO refresh_tokens"):
            raise OperationalError(statement, {}, ConnectionError("database unreachable"))

    with app.app_context():
        found = listen(database_down)
    try:
        answer = flow.token(rp, code)
    finally:
        unlisten(found, database_down)
    assert answer.status_code == 503 and answer.json["error"] == "temporarily_unavailable"
    assert answer.headers["Retry-After"] == "5"
    assert _refresh_rows(app) == rows
    with app.app_context():  # no access token was kept
        assert all(find_access_token(value) is None for value in saved)
    # The code is spent and forgotten: the RP's retry is an unknown code, not a replay
    # (no grant revoked, nothing written to the audit trail as one).
    retry = flow.token(rp, code)
    assert retry.status_code == 400 and retry.json["error"] == "invalid_grant"
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "authorization_code_replay_revoked_grant" not in actions


def test_the_token_endpoint_opens_no_session(app, flow, rp, parent, client, monkeypatch):
    """RPs' servers send no cookie (nor does `client`, apart from the browser's): nothing
    on the token endpoint reads or writes the server-side session (no store round trip
    for it, no Set-Cookie)."""
    code = flow.code_for(rp, parent)["code"]
    touched = []
    store = app.session_interface.store
    for name in ("get", "set", "delete"):
        def spy(key, *args, _real=getattr(store, name), **kwargs):
            if str(key).startswith("sess:"):
                touched.append(key)
            return _real(key, *args, **kwargs)
        monkeypatch.setattr(store, name, spy)
    issued = flow.token(rp, code)
    assert issued.status_code == 200 and "Set-Cookie" not in issued.headers
    renewed = client.post("/oidc/token", data={
        "grant_type": "refresh_token", "refresh_token": issued.json["refresh_token"]},
        auth=(rp.client_id, rp.client_secret))
    assert renewed.status_code == 200 and "Set-Cookie" not in renewed.headers
    assert touched == []


def test_a_signed_in_authorization_commits_its_audit_row(app, flow, rp, parent):
    """(Was: the autocommit endpoints.) A signed-in authorization writes one audit row,
    committed with the request's transaction."""
    flow.code_for(rp, parent)  # signs in, then the code

    def issued() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "oidc_code_issued"))

    before = issued()
    flow.code_for(rp, parent)  # signed in: authorize issues the code at once
    assert issued() == before + 1
