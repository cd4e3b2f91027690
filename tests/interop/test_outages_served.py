"""PostgreSQL restarted under a gunicorn IdP (real processes, real HTTP): while it
restarts, requests answer 200 or 503, never 500; once it is back every request answers
200; and after a restart while idle, the first request on each worker succeeds (no stale
pooled connection). The server is a private one (tests/support/servers.py)."""
from __future__ import annotations

import os
import threading
import time

import pytest
import requests

from ..support.browser import Browser
from ..support.served import serve_idp

pytestmark = pytest.mark.skipif(
    not os.environ.get("IDP_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL restarts run with IDP_TEST_DATABASE_URL=postgresql://... (a "
           "private PostgreSQL server is restarted; SQLite has no server to lose)")

WORKERS = 2


@pytest.fixture(scope="module")
def served(settings, private_postgres, private_postgres_app, tmp_path_factory):
    with serve_idp({**settings, "DATABASE_URL": private_postgres.url,
                    "PROPAGATE_EXCEPTIONS": False}, tmp_path_factory.mktemp("outage"),
                   workers=WORKERS) as idp:
        yield idp


@pytest.fixture
def calls(private_postgres_app, make):
    """Two requests that read the database on every call: a signed-in family's home page
    (the account) and an RP's introspection of an unknown token (the refresh tokens)."""
    parent = make.account()
    browser = Browser(private_postgres_app.test_client())
    assert browser.sign_in(parent).request.path == "/"
    cookie = next(c for c in browser.client._cookies.values() if c.key == "idp_session")
    rp = make.oidc_client(redirect_uris=["https://ent.example/callback"])

    def home(session: requests.Session, url: str) -> int:
        return session.get(url + "/", cookies={"idp_session": cookie.value},
                           allow_redirects=False, timeout=20).status_code

    def introspect(session: requests.Session, url: str) -> int:
        answer = session.post(url + "/oidc/introspect", data={"token": "unknown"},
                              auth=(rp.client_id, rp.client_secret), timeout=20)
        if answer.status_code == 503:
            assert answer.json()["error"] == "temporarily_unavailable"
        return answer.status_code

    return home, introspect


def test_a_restart_under_load_answers_200_or_503_and_nothing_fails_after(
        served, private_postgres, calls):
    results: list[tuple[float, int]] = []  # (start time, status)
    stop = threading.Event()

    def load(call):
        with requests.Session() as session:
            while not stop.is_set():
                started = time.monotonic()
                results.append((started, call(session, served.url)))

    threads = [threading.Thread(target=load, args=(call,)) for call in calls * 2]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        private_postgres.restart()
        back = time.monotonic()
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    statuses = {status for _, status in results}
    assert statuses <= {200, 503}, f"{statuses}\n{served.log_tail()}"
    before = [status for started, status in results if started < back - 1.0]
    after = [status for started, status in results if started >= back]
    assert before and set(before) == {200}
    assert after and set(after) == {200}, served.log_tail()


def test_after_a_restart_while_idle_the_first_request_on_each_worker_succeeds(
        served, private_postgres, calls):
    home, introspect = calls
    with requests.Session() as session:
        for _ in range(4 * WORKERS):  # every worker has pooled connections
            assert home(session, served.url) == 200
            assert introspect(session, served.url) == 200
    time.sleep(0.5)
    private_postgres.restart()
    with requests.Session() as session:
        answers = [call(session, served.url) for _ in range(4 * WORKERS)
                   for call in (home, introspect)]
    assert answers == [200] * len(answers), served.log_tail()
