"""PostgreSQL down or restarting answers 503, never 500: our French page for pages, the
protocol's JSON error on the endpoints relying parties' servers call; /oidc/authorize and
the SAML endpoints answer a page (no redirect URI can be checked without the database).
After a restart the pool recovers without a failed request, and a busy pool pings nothing.

The server is this module's own (tests/support/servers.py: private_postgres_app, built
as in production): the shared one is never stopped.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from importlib import import_module

import pytest

from idp.keys import ring

from ..support.browser import Browser
from ..support.saml import BINDING_HTTP_REDIRECT
from ..support.sql import engines

pytestmark = pytest.mark.skipif(
    not os.environ.get("IDP_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL outages run with IDP_TEST_DATABASE_URL=postgresql://... (they stop "
           "and restart a private PostgreSQL server; SQLite has no server to lose)")


@pytest.fixture
def client(private_postgres_app):
    return private_postgres_app.test_client()


@pytest.fixture
def browser(private_postgres_app):
    return Browser(private_postgres_app.test_client())


@contextmanager
def postgresql_down(server):
    server.stop()
    try:
        yield
    finally:
        server.start()
        # The key ring keeps a failed load for VERSION_SECONDS (idp/keys/ring.py: not one
        # database read per request during an outage): the next test starts past it.
        time.sleep(ring.VERSION_SECONDS)


def _is_the_503_page(page) -> None:
    assert page.status_code == 503, page.text[:300]
    assert page.mimetype == "text/html" and page.location is None
    assert "Le service est momentanément indisponible." in page.text
    assert page.headers["Retry-After"] and "frame-ancestors 'none'" in \
        page.headers["Content-Security-Policy"]


def _is_the_json_503(answer) -> None:
    assert answer.status_code == 503, answer.text[:300]
    assert answer.json["error"] == "temporarily_unavailable"
    assert answer.headers["Cache-Control"] == "no-store" and answer.headers["Retry-After"]


def test_pages_answer_the_french_503_page(private_postgres, browser, make):
    parent = make.account()
    assert browser.sign_in(parent).request.path == "/"
    stranger = Browser(browser.client.application.test_client())
    stranger.choose()
    form = stranger.get("/connexion")
    with postgresql_down(private_postgres):
        _is_the_503_page(browser.get("/"))
        _is_the_503_page(stranger.submit("/connexion", {"identifier": parent.identifier,
                                                        "password": parent.password},
                                         page_html=form.text))
    assert browser.get("/").status_code == 200  # and back at once


def test_protocol_endpoints_answer_the_json_503(private_postgres, client, flow, rp, parent):
    tokens = flow.tokens_for(rp, parent)
    code = flow.code_for(rp, parent)["code"]
    auth = (rp.client_id, rp.client_secret)
    with postgresql_down(private_postgres):
        _is_the_json_503(flow.token(rp, code))
        _is_the_json_503(client.post("/oidc/token", auth=auth, data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}))
        _is_the_json_503(client.get("/oidc/userinfo", headers={
            "Authorization": "Bearer " + tokens["access_token"]}))
        _is_the_json_503(client.post("/oidc/introspect", auth=auth,
                                     data={"token": tokens["access_token"]}))
        _is_the_json_503(client.post("/oidc/revoke", auth=auth,
                                     data={"token": tokens["refresh_token"]}))
    answer = client.post("/oidc/token", auth=auth, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert answer.status_code == 200, answer.json  # nothing was spent by the outage


def test_authorize_and_saml_answer_a_page_never_a_redirect(private_postgres, browser, flow,
                                                           make, new_sp):
    """Without the database the redirect URI (or the ACS) cannot be checked: our page."""
    rp = make.oidc_client(redirect_uris=["https://ent.example/callback"])
    sp = new_sp()
    _, args = sp.authn_request(BINDING_HTTP_REDIRECT)
    with postgresql_down(private_postgres):
        _is_the_503_page(flow.authorize(rp))
        _is_the_503_page(browser.client.get(args["url"] + "?" + args["query"]))
        metadata = browser.client.get("/saml/metadata")
        assert metadata.status_code in (200, 503)  # served from the process's keys, or 503


def test_the_first_request_after_a_restart_succeeds(private_postgres, client, flow, rp,
                                                     parent):
    tokens = flow.tokens_for(rp, parent)
    auth = (rp.client_id, rp.client_secret)
    for answer_first in ("userinfo", "refresh"):
        private_postgres.restart()  # every pooled connection is now closed by the server
        if answer_first == "userinfo":
            answer = client.get("/oidc/userinfo",
                                headers={"Authorization": "Bearer " + tokens["access_token"]})
        else:  # the token endpoint's own statements (db.alone, autocommit)
            answer = client.post("/oidc/token", auth=auth, data={
                "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
            tokens["refresh_token"] = answer.json.get("refresh_token")
        assert answer.status_code == 200, answer.text[:300]


@pytest.fixture
def pings(private_postgres_app, monkeypatch):
    """The pings the pool sends before handing out a connection (counted, still sent)."""
    sent = []
    with private_postgres_app.app_context():
        dialects = {id(e.dialect): e.dialect for e in engines()}.values()  # db.alone's too
    for dialect in dialects:
        def counted(dbapi_conn, real=dialect.do_ping):
            sent.append(dbapi_conn)
            return real(dbapi_conn)

        monkeypatch.setattr(dialect, "do_ping", counted)
    return sent


def test_a_busy_pool_pings_nothing_a_restarted_or_idle_one_does(private_postgres, client,
                                                               flow, rp, parent, pings,
                                                               monkeypatch):
    tokens = flow.tokens_for(rp, parent)
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    pings.clear()
    for _ in range(20):
        assert client.get("/oidc/userinfo", headers=bearer).status_code == 200
    assert pings == []  # the hot path: one poll(2) per checkout, no round trip
    private_postgres.restart()
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 200
    assert pings  # the closed connection was found and replaced before use
    # (idp.db the attribute is the Database object; the module is in sys.modules)
    monkeypatch.setattr(import_module("idp.db"), "PING_AFTER_IDLE_SECONDS", 0.0)
    pings.clear()
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 200
    assert pings  # idle longer than the threshold: pinged (a silent cut shows nothing)


def test_a_connection_the_server_ended_is_replaced_before_use(private_postgres, client,
                                                              flow, rp, parent):
    """pg_terminate_backend from another client: the pool's connections are ended."""
    import psycopg

    tokens = flow.tokens_for(rp, parent)
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 200
    with psycopg.connect(private_postgres.url, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> "
            "pg_backend_pid() AND backend_type = 'client backend'").fetchone()[0]
    assert ended >= 1
    for _ in range(3):
        assert client.get("/oidc/userinfo", headers=bearer).status_code == 200
