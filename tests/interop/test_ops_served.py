"""`idp serve` as production runs it (issue 16, points 1-3): gunicorn's access log and the
app's lines are JSON with the request id; no password, code or token in any line, even at
DEBUG, after sign-ins, a code grant and a refresh; /metrics adds up the workers (prometheus
multiprocess mode) and a scrape during a worker's restart does not fail; audit rows carry
the request id a trusted proxy sent."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest
import requests
from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent
from tests.interop.test_oidc_interop import authorize, new_client, redeem, rp_session
from tests.support.ops_served import log_lines
from tests.support.served import HttpBrowser


@pytest.fixture
def meta(ops_idp):
    return requests.get(ops_idp.url + "/.well-known/openid-configuration", timeout=5).json()


def _value(body: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search("^" + re.escape(f"{name}{{{wanted}}}") + r" (\S+)$", body, re.M)
    return float(match.group(1)) if match else 0.0


def test_no_secret_in_any_log_line_and_every_line_is_json(ops_idp, meta, make):
    family = make.account(with_pupils=1)
    rp = new_client(make)
    browser = HttpBrowser()
    # A wrong password first (the throttle, the audit row, the log lines see it).
    browser.sign_in(ops_idp.url + "/connexion", family.identifier, "Mauvais-Secret-2026!")
    session = rp_session(rp)
    front = authorize(browser, session, meta, family)
    token = redeem(session, meta, front)
    refreshed = session.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"]
    session.get(meta["userinfo_endpoint"]).raise_for_status()
    time.sleep(0.3)  # the access lines of the last requests
    secrets = {"password": family.password, "wrong password": "Mauvais-Secret-2026!",
               "client secret": rp.client_secret, "code": front["params"]["code"],
               "verifier": front["verifier"], "access token": token["access_token"],
               "refresh token": token["refresh_token"], "id token": token["id_token"],
               "new access token": refreshed["access_token"],
               "new refresh token": refreshed["refresh_token"]}
    lines = log_lines(ops_idp)
    assert len(lines) > 10
    for line in lines:
        record = json.loads(line)  # every line: JSON (no raw warning, no plain text)
        assert {"time", "level", "logger", "message"} <= set(record), line
        for what, value in secrets.items():
            assert value not in line, f"the {what} is in a log line: {line[:300]}"
    access = [json.loads(l) for l in lines if '"gunicorn.access"' in l]
    paths = {a["path"] for a in access}
    assert {"/connexion", "/oidc/authorize", "/oidc/token", "/oidc/userinfo"} <= paths
    assert all("?" not in a["path"] and a["request_id"] for a in access)
    assert all(a["status"] and a["duration_ms"] >= 0 for a in access)
    assert not paths & {"/healthz", "/readyz", "/metrics"}  # probes are not logged


def test_a_trusted_proxys_request_id_reaches_the_log_and_the_audit_row(ops_idp, make, app):
    account = make.account()
    rid = f"nginx-{os.getpid()}-{time.monotonic_ns()}"
    page = requests.get(ops_idp.url + "/connexion", timeout=5)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    answer = requests.post(ops_idp.url + "/connexion", cookies=page.cookies, timeout=10,
                           data={"csrf_token": token, "identifier": account.identifier,
                                 "password": "pas-le-bon"},
                           headers={"X-Request-Id": rid, "X-Forwarded-For": "203.0.113.9"},
                           allow_redirects=False)
    assert answer.headers["X-Request-Id"] == rid
    time.sleep(0.3)
    assert any(json.loads(l).get("request_id") == rid for l in log_lines(ops_idp))
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.request_id == rid)).all()
    assert [r.action for r in rows] == ["login_failed"], [r.action for r in rows]
    assert rows[0].ip == "203.0.113.9"
    # A request id that is not a plain token is replaced, not logged as given.
    odd = requests.get(ops_idp.url + "/connexion", headers={"X-Request-Id": "a b;<x>"}, timeout=5)
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-Id"])


def test_health_and_readiness_served(ops_idp):
    assert requests.get(ops_idp.url + "/healthz", timeout=5).text == "ok\n"
    ready = requests.get(ops_idp.url + "/readyz", timeout=5)
    assert ready.status_code == 200, ready.text


def _workers(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                         text=True).stdout
    return [int(p) for p in out.split()]


def test_metrics_add_up_the_workers_and_survive_a_worker_restart(ops_idp, make):
    account = make.account()
    for _ in range(4):  # spread over both workers (no keep-alive: a connection each)
        HttpBrowser().sign_in(ops_idp.url + "/connexion", account.identifier, "faux-1234567")
    before = _value(requests.get(ops_idp.url + "/metrics", timeout=5).text,
                    "idp_signins_total", outcome="failed")
    assert before >= 4
    assert len(list(ops_idp.metrics_dir.glob("*.db"))) >= 2  # one file set per process

    failures, scrapes, stop = [], [], threading.Event()

    def scrape():
        while not stop.is_set():
            try:
                answer = requests.get(ops_idp.url + "/metrics", timeout=5)
                scrapes.append(answer.status_code)
                if answer.status_code != 200:
                    failures.append(answer.status_code)
            except requests.RequestException as exc:
                failures.append(repr(exc))

    thread = threading.Thread(target=scrape)
    thread.start()
    try:
        workers = _workers(ops_idp.process.pid)
        assert len(workers) == 2, workers
        # A graceful restart of every worker (HUP: gunicorn forks new ones, the old ones
        # finish their request and exit; child_exit drops their live gauges).
        os.kill(ops_idp.process.pid, signal.SIGHUP)
        _wait_for(lambda: len(_workers(ops_idp.process.pid)) == 2
                  and not set(workers) & set(_workers(ops_idp.process.pid)))
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert len(scrapes) >= 5
    body = requests.get(ops_idp.url + "/metrics", timeout=5).text
    assert _value(body, "idp_signins_total", outcome="failed") >= before  # counts stay

    # A worker killed outright: the next scrapes still answer, with the same totals.
    workers = _workers(ops_idp.process.pid)
    os.kill(workers[0], signal.SIGKILL)
    _wait_for(lambda: len(_workers(ops_idp.process.pid)) == 2
              and workers[0] not in _workers(ops_idp.process.pid))
    for _ in range(4):
        answer = requests.get(ops_idp.url + "/metrics", timeout=5)
        assert answer.status_code == 200
        assert _value(answer.text, "idp_signins_total", outcome="failed") >= before


def _wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("gunicorn did not replace its workers in time")


# --- deploy/nginx/idp.conf in front of the ops_idp IdP -------------------------------------
