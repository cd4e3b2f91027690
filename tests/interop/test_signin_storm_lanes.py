"""Issue 18, lanes: under a storm of sign-ins on `idp serve` (gthread, one worker, the
production argon2 cost), requests that need no password (a signed-in browser's SSO code
flow, the token endpoint, JWKS, discovery) keep being answered, and the sign-ins are
answered too: signed in, or 503 with Retry-After, never another 5xx, never a hang.

Not a timed test: speed is bench/storm.py's; here every request must be answered
within the client's timeout with the right status."""
from __future__ import annotations

import re
import secrets
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.support.oidc import authorize_params, pkce_pair, query
from tests.support.served import _run, free_port, settings_env

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TIMEOUT = 10  # a request not answered in this long is a failure (a queued lane)


def _sign_in(session: requests.Session, base: str, identifier: str, password: str):
    page = session.get(base + "/choisir-profil", timeout=TIMEOUT)
    session.post(base + "/choisir-profil", timeout=TIMEOUT, allow_redirects=False, data={
        "csrf_token": CSRF.search(page.text).group(1), "profile": "parent",
        "academy": "reims"})
    page = session.get(base + "/connexion", timeout=TIMEOUT)
    return session.post(base + "/connexion", timeout=TIMEOUT, allow_redirects=False, data={
        "csrf_token": CSRF.search(page.text).group(1), "identifier": identifier,
        "password": password})


def _code(session: requests.Session, base: str, rp) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    response = session.get(base + "/oidc/authorize", timeout=TIMEOUT, allow_redirects=False,
                           params=authorize_params(rp, challenge=challenge))
    for _ in range(8):
        location = response.headers.get("Location", "")
        if response.status_code != 302 or location.startswith(rp.redirect_uri):
            break
        response = session.get(urljoin(base, location), timeout=TIMEOUT,
                               allow_redirects=False)
    assert response.status_code == 302, response.text[:300]
    assert response.headers["Location"].startswith(rp.redirect_uri), response.headers
    return query(response.headers["Location"])["code"], verifier


def test_sso_token_and_jwks_keep_answering_during_a_sign_in_storm(settings, make, tmp_path):
    parent = make.account()
    rp = make.oidc_client(redirect_uris=["https://ent.example/callback"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = settings_env(settings, ISSUER=base, ARGON2_TIME_COST=3, ARGON2_MEMORY_COST=65536,
                       SIGNIN_CONCURRENCY=1, SIGNIN_WAITERS=1, SIGNIN_WAIT_SECONDS=0.5)
    idp = str(Path(sys.executable).with_name("idp"))
    cmd = [idp, "serve", "--workers", "1", "--threads", "2", "--bind", f"127.0.0.1:{port}"]
    with _run(cmd, env, port, "/.well-known/openid-configuration",
              tmp_path / "serve.log") as served:
        browser = requests.Session()
        assert _sign_in(browser, base, parent.identifier, parent.password).status_code == 302
        stop = time.monotonic() + 6
        storm_statuses, storm_errors = [], []

        def storm():
            # Unknown identifiers: each one costs a verification at the production cost
            # (the dummy hash), like a rentrée morning of first sign-ins.
            while time.monotonic() < stop:
                try:
                    answer = _sign_in(requests.Session(), base,
                                      f"x.storm{secrets.token_hex(3)}", "Not-The-Pass-1!")
                    storm_statuses.append(answer.status_code)
                    if answer.status_code == 503:
                        assert answer.headers.get("Retry-After"), answer.headers
                except Exception as exc:  # noqa: BLE001 - reported below
                    storm_errors.append(repr(exc)[:200])

        threads = [threading.Thread(target=storm) for _ in range(12)]
        for t in threads:
            t.start()
        quiet_statuses = []
        time.sleep(0.5)  # the storm is on
        while time.monotonic() < stop:
            code, verifier = _code(browser, base, rp)  # SSO: no password, no queue
            token = requests.post(base + "/oidc/token", timeout=TIMEOUT, data={
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": rp.redirect_uri, "code_verifier": verifier},
                auth=(rp.client_id, rp.client_secret))
            quiet_statuses.append(token.status_code)
            quiet_statuses.append(requests.get(base + "/oidc/jwks", timeout=TIMEOUT).status_code)
            quiet_statuses.append(requests.get(base + "/.well-known/openid-configuration",
                                               timeout=TIMEOUT).status_code)
        for t in threads:
            t.join(timeout=30)
        log = served.log_tail()
    assert not storm_errors, storm_errors[:3]
    assert quiet_statuses and set(quiet_statuses) == {200}, quiet_statuses
    assert storm_statuses and set(storm_statuses) <= {400, 429, 503}, set(storm_statuses)
    assert 503 in storm_statuses, "the storm never filled the room: test too light"
    assert "Traceback" not in log, log[-2000:]
