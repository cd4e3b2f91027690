"""The refresh_token grant through Authlib's grant (idp/oidc/grants.py) and its hooks:
the presented token is taken (checked, marked used and its successor inserted) by one
statement on PostgreSQL (refresh_tokens.take_refresh_token), a refused scope or a store outage
consumes nothing, a reuse revokes the whole grant."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from idp.db import db
from idp.models import Account, AccountState, AuditEvent, OIDCClient, RefreshToken
from ..support.sql import listen, unlisten


def refresh(client, value, auth=None, **extra):
    return client.post("/oidc/token", data={"grant_type": "refresh_token",
                                            "refresh_token": value, **extra}, auth=auth)


def userinfo_status(client, access_token):
    return client.get("/oidc/userinfo",
                      headers={"Authorization": "Bearer " + access_token}).status_code


def test_a_grant_rotates_in_one_statement(app, flow, rp, parent, client, statements):
    first = flow.tokens_for(rp, parent)
    auth = (rp.client_id, rp.client_secret)
    refresh(client, flow.tokens_for(rp, parent)["refresh_token"], auth=auth)  # warm caches
    statements.on = True
    second = refresh(client, first["refresh_token"], auth=auth)
    statements.on = False
    assert second.status_code == 200, [s[:60] for s in statements.seen]
    body = second.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert body["scope"] == first["scope"]
    assert body["refresh_token"] != first["refresh_token"]
    assert second.headers["Cache-Control"] == "no-store"
    assert second.headers["Pragma"] == "no-cache"
    assert second.headers["X-Content-Type-Options"] == "nosniff"  # headers.baseline()
    assert second.headers["X-Frame-Options"] == "DENY"
    assert userinfo_status(client, body["access_token"]) == 200
    # On PostgreSQL one statement: the UPDATE that checks and marks it used feeds the
    # INSERT of its successor, whose row comes back with its account.
    if db.engine.dialect.name == "postgresql":
        assert len(statements.seen) == 1, [s[:60] for s in statements.seen]
        assert "UPDATE refresh_tokens" in statements.seen[0]
        assert "INSERT INTO refresh_tokens" in statements.seen[0]
        assert "FROM accounts" in statements.seen[0]
    else:  # SQLite: no data-modifying CTE, the UPDATE then the INSERT
        writes = [s for s in statements.seen if not s.lstrip().upper().startswith("SELECT")]
        assert [w.split()[0] for w in writes] == ["UPDATE", "INSERT"]
    # The successor works in turn; the chain goes on.
    third = refresh(client, body["refresh_token"], auth=auth)
    assert third.status_code == 200


def test_client_secret_post_and_public_clients(flow, make, parent, client):
    post = make.oidc_client(redirect_uris=["https://post.example/cb"],
                            token_auth_method="client_secret_post")
    public = make.oidc_client(public=True, redirect_uris=["http://127.0.0.1:8765/cb"])
    for rp, credentials in ((post, {"client_id": post.client_id,
                                    "client_secret": post.client_secret}),
                            (public, {"client_id": public.client_id})):
        code = flow.code_for(rp, parent)["code"]
        issued = client.post("/oidc/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": flow.verifier, **credentials}).json
        again = refresh(client, issued["refresh_token"], **credentials)
        assert again.status_code == 200, rp.client_id
        # A client registered for one method cannot use another one.
        if rp is post:
            basic = refresh(client, again.json["refresh_token"],
                            auth=(post.client_id, post.client_secret))
            assert basic.status_code == 401 and basic.json["error"] == "invalid_client"


def test_reuse_revokes_the_grant(app, flow, rp, parent, client):
    auth = (rp.client_id, rp.client_secret)
    first = flow.tokens_for(rp, parent)
    second = refresh(client, first["refresh_token"], auth=auth).json
    reused = refresh(client, first["refresh_token"], auth=auth)
    assert reused.status_code == 400 and reused.json["error"] == "invalid_grant"
    # The whole grant died: the successor and its access token too.
    assert refresh(client, second["refresh_token"], auth=auth).json["error"] == "invalid_grant"
    assert userinfo_status(client, second["access_token"]) == 401
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "refresh_token_reuse_revoked_grant" in actions


def test_bad_credentials_consume_nothing(flow, rp, parent, client):
    token = flow.tokens_for(rp, parent)["refresh_token"]
    wrong = refresh(client, token, auth=(rp.client_id, "not-the-secret"))
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_client"
    unknown = refresh(client, token, auth=("no-such-client", rp.client_secret))
    assert unknown.status_code == 401
    garbage = client.post("/oidc/token", data={"grant_type": "refresh_token",
                                               "refresh_token": token},
                          headers={"Authorization": "Basic %%%not-base64"})
    assert garbage.status_code in (400, 401)
    # The family's token is intact: the real client still refreshes with it.
    assert refresh(client, token, auth=(rp.client_id, rp.client_secret)).status_code == 200


def test_another_clients_token_is_refused_and_left_alone(flow, rp, parent, make, client):
    token = flow.tokens_for(rp, parent)["refresh_token"]
    other = make.oidc_client(redirect_uris=["https://other.example/cb"])
    answer = refresh(client, token, auth=(other.client_id, other.client_secret))
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"
    assert refresh(client, token, auth=(rp.client_id, rp.client_secret)).status_code == 200


@pytest.mark.parametrize("change", ["client_disabled", "account_deactivated", "expired",
                                    "revoked"])
def test_what_changed_since_issuance_is_refused(app, flow, rp, parent, client, change):
    token = flow.tokens_for(rp, parent)["refresh_token"]
    with app.app_context():
        statement = {
            "client_disabled": update(OIDCClient).where(OIDCClient.client_id == rp.client_id)
            .values(enabled=False),
            "account_deactivated": update(Account).where(Account.id == parent.id)
            .values(state=AccountState.deactivated),
            "expired": update(RefreshToken).values(
                expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)),
            "revoked": update(RefreshToken).values(revoked=True),
        }[change]
        db.session.execute(statement)
        db.session.commit()
    answer = refresh(client, token, auth=(rp.client_id, rp.client_secret))
    assert 400 <= answer.status_code < 500
    assert answer.json["error"] in ("invalid_client", "invalid_grant", "invalid_request")


def test_narrowing_and_malformed_requests(flow, rp, parent, client):
    auth = (rp.client_id, rp.client_secret)
    token = flow.tokens_for(rp, parent, scope="openid profile email")["refresh_token"]
    # Narrowing the scope: the answer is still a rotation.
    narrowed = refresh(client, token, auth=auth, scope="openid")
    assert narrowed.status_code == 200 and narrowed.json["scope"] == "openid"
    repeated = client.post("/oidc/token", auth=auth, data=(
        f"grant_type=refresh_token&refresh_token={narrowed.json['refresh_token']}"
        "&grant_type=refresh_token"), content_type="application/x-www-form-urlencoded")
    assert 400 <= repeated.status_code < 500
    as_json = client.post("/oidc/token", auth=auth, json={
        "grant_type": "refresh_token", "refresh_token": narrowed.json["refresh_token"]})
    assert 400 <= as_json.status_code < 500


def test_a_scope_beyond_the_grant_is_refused_and_consumes_nothing(flow, rp, parent, client):
    auth = (rp.client_id, rp.client_secret)
    token = flow.tokens_for(rp, parent, scope="openid")["refresh_token"]
    wider = refresh(client, token, auth=auth, scope="openid email")
    assert wider.status_code == 400 and wider.json["error"] == "invalid_scope"
    again = refresh(client, token, auth=auth)
    assert again.status_code == 200 and again.json["scope"] == "openid"


def test_concurrent_use_of_one_token_exactly_one_wins(app, flow, rp, parent):
    token = flow.tokens_for(rp, parent)["refresh_token"]
    results = []

    def use():
        with app.test_client() as c:
            results.append(refresh(c, token, auth=(rp.client_id, rp.client_secret))
                           .status_code)

    threads = [threading.Thread(target=use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 400, 400, 400, 400, 400]


@pytest.mark.parametrize("asynchronous", [True, False])
def test_postgresql_takes_commit_alone_as_configured(app, flow, rp, parent, monkeypatch,
                                                     asynchronous):
    """The take is one statement on a connection in autocommit (no BEGIN, no COMMIT);
    REFRESH_ASYNC_COMMIT: the statement itself sets synchronous_commit off for its own
    transaction (set_config(..., true)); statements are planned on every run (a generic
    plan kept a sequential scan)."""
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    from idp.oidc import refresh_tokens, tokens

    value = flow.tokens_for(rp, parent)["refresh_token"]
    monkeypatch.setitem(app.config, "REFRESH_ASYNC_COMMIT", asynchronous)
    seen = []

    def note(conn, _cursor, statement, *_args):
        seen.append((statement, conn.connection.dbapi_connection.autocommit))

    with app.app_context():
        found = listen(note)
    try:
        with app.app_context():
            assert refresh_tokens.take_refresh_token(value, rp.client_id, tokens.new_token(), 1)
            with db.alone_engine().connect() as alone:
                assert alone.exec_driver_sql("SHOW plan_cache_mode").scalar() \
                    == "force_custom_plan"
            # The request's statements keep PostgreSQL's plan cache (bench/README.md).
            show = db.session.connection().exec_driver_sql
            assert show("SHOW plan_cache_mode").scalar() == "auto"
            db.session.rollback()
    finally:
        unlisten(found, note)
    statement, autocommit = seen[0]
    assert autocommit and "UPDATE refresh_tokens" in statement
    assert ("set_config" in statement) == asynchronous


def test_a_store_failure_consumes_nothing(app, flow, rp, parent, client, monkeypatch):
    """The access token is written once the rotation ran, in the same request: when the
    store fails, the answer is 503 and the rotation is rolled back."""
    from idp.oidc import tokens
    from idp.store import StoreUnavailable

    token = flow.tokens_for(rp, parent)["refresh_token"]

    def store_down(*_args, **_kwargs):
        raise StoreUnavailable("store unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(tokens, "save_access_token", store_down)
        failed = refresh(client, token, auth=(rp.client_id, rp.client_secret))
    assert failed.status_code >= 500
    again = refresh(client, token, auth=(rp.client_id, rp.client_secret))
    assert again.status_code == 200 and again.json["refresh_token"] != token
