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
import sys
import threading
import time

import pytest
import requests
from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent
from tests.interop.test_oidc_interop import authorize, new_client, redeem, rp_session
from tests.support.served import HttpBrowser, _run, free_port, settings_env


def _serve(settings, base, port: int, issuer_port: int, *options: str):
    env = settings_env(settings, ISSUER=f"http://127.0.0.1:{issuer_port}", LOG_LEVEL="DEBUG",
                       METRICS_DIR=str(base / "metrics"), TRUSTED_PROXIES=1)
    cmd = [sys.executable, "-c", "from idp.cli import main; main()", "serve",
           "--workers", "2", "--bind", f"127.0.0.1:{port}", *options]
    return _run(cmd, env, port, "/healthz", base / f"serve-{port}.log")


@pytest.fixture(scope="module")
def served(settings, tmp_path_factory):
    base = tmp_path_factory.mktemp("ops")
    port = free_port()
    with _serve(settings, base, port, port) as server:
        server.metrics_dir = base / "metrics"
        yield server


@pytest.fixture(scope="module")
def servers_pool(settings, served):
    """The second pool of README "Two pools": sync workers, same settings and issuer."""
    with _serve(settings, served.metrics_dir.parent, free_port(), served.port,
                "--threads", "1") as pool:
        yield pool


@pytest.fixture
def meta(served):
    return requests.get(served.url + "/.well-known/openid-configuration", timeout=5).json()


def _lines(served) -> list[str]:
    return [l for l in served.log_path.read_text(errors="replace").splitlines() if l.strip()]


def _value(body: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search("^" + re.escape(f"{name}{{{wanted}}}") + r" (\S+)$", body, re.M)
    return float(match.group(1)) if match else 0.0


def test_no_secret_in_any_log_line_and_every_line_is_json(served, meta, make):
    family = make.account(with_pupils=1)
    rp = new_client(make)
    browser = HttpBrowser()
    # A wrong password first (the throttle, the audit row, the log lines see it).
    browser.sign_in(served.url + "/connexion", family.identifier, "Mauvais-Secret-2026!")
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
    lines = _lines(served)
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


def test_a_trusted_proxys_request_id_reaches_the_log_and_the_audit_row(served, make, app):
    account = make.account()
    rid = f"nginx-{os.getpid()}-{time.monotonic_ns()}"
    page = requests.get(served.url + "/connexion", timeout=5)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    answer = requests.post(served.url + "/connexion", cookies=page.cookies, timeout=10,
                           data={"csrf_token": token, "identifier": account.identifier,
                                 "password": "pas-le-bon"},
                           headers={"X-Request-Id": rid, "X-Forwarded-For": "203.0.113.9"},
                           allow_redirects=False)
    assert answer.headers["X-Request-Id"] == rid
    time.sleep(0.3)
    assert any(json.loads(l).get("request_id") == rid for l in _lines(served))
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.request_id == rid)).all()
    assert [r.action for r in rows] == ["login_failed"], [r.action for r in rows]
    assert rows[0].ip == "203.0.113.9"
    # A request id that is not a plain token is replaced, not logged as given.
    odd = requests.get(served.url + "/connexion", headers={"X-Request-Id": "a b;<x>"}, timeout=5)
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-Id"])


def test_health_and_readiness_served(served):
    assert requests.get(served.url + "/healthz", timeout=5).text == "ok\n"
    ready = requests.get(served.url + "/readyz", timeout=5)
    assert ready.status_code == 200, ready.text


def _workers(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                         text=True).stdout
    return [int(p) for p in out.split()]


def test_metrics_add_up_the_workers_and_survive_a_worker_restart(served, make):
    account = make.account()
    for _ in range(4):  # spread over both workers (no keep-alive: a connection each)
        HttpBrowser().sign_in(served.url + "/connexion", account.identifier, "faux-1234567")
    before = _value(requests.get(served.url + "/metrics", timeout=5).text,
                    "idp_signins_total", outcome="failed")
    assert before >= 4
    assert len(list(served.metrics_dir.glob("*.db"))) >= 2  # one file set per process

    failures, scrapes, stop = [], [], threading.Event()

    def scrape():
        while not stop.is_set():
            try:
                answer = requests.get(served.url + "/metrics", timeout=5)
                scrapes.append(answer.status_code)
                if answer.status_code != 200:
                    failures.append(answer.status_code)
            except requests.RequestException as exc:
                failures.append(repr(exc))

    thread = threading.Thread(target=scrape)
    thread.start()
    try:
        workers = _workers(served.process.pid)
        assert len(workers) == 2, workers
        # A graceful restart of every worker (HUP: gunicorn forks new ones, the old ones
        # finish their request and exit; child_exit drops their live gauges).
        os.kill(served.process.pid, signal.SIGHUP)
        _wait_for(lambda: len(_workers(served.process.pid)) == 2
                  and not set(workers) & set(_workers(served.process.pid)))
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert len(scrapes) >= 5
    body = requests.get(served.url + "/metrics", timeout=5).text
    assert _value(body, "idp_signins_total", outcome="failed") >= before  # counts stay

    # A worker killed outright: the next scrapes still answer, with the same totals.
    workers = _workers(served.process.pid)
    os.kill(workers[0], signal.SIGKILL)
    _wait_for(lambda: len(_workers(served.process.pid)) == 2
              and workers[0] not in _workers(served.process.pid))
    for _ in range(4):
        answer = requests.get(served.url + "/metrics", timeout=5)
        assert answer.status_code == 200
        assert _value(answer.text, "idp_signins_total", outcome="failed") >= before


def _wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("gunicorn did not replace its workers in time")


# --- deploy/nginx/idp.conf in front of the served IdP -------------------------------------

def _self_signed(directory) -> tuple[str, str]:
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "connexion.example.fr")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def deployed_nginx(served, servers_pool, tmp_path_factory):
    """deploy/nginx/idp.conf as shipped, but for its names: ports on 127.0.0.1, a
    self-signed certificate, and no `allow 127.0.0.1` (the test plays a remote client)."""
    import shutil

    from idp.config import PROJECT_ROOT

    if shutil.which("nginx") is None:
        pytest.skip("no nginx (make test installs nginx-light)")
    tmp = tmp_path_factory.mktemp("nginx")
    cert, key = _self_signed(tmp)
    https, http = free_port(), free_port()
    site = (PROJECT_ROOT / "deploy" / "nginx" / "idp.conf").read_text()
    for old, new in (("127.0.0.1:8000", f"127.0.0.1:{served.port}"),
                     ("127.0.0.1:8001", f"127.0.0.1:{servers_pool.port}"),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
                     ("listen [::]:443 ssl http2;", ""),
                     ("listen 80;", f"listen 127.0.0.1:{http};"), ("listen [::]:80;", ""),
                     ("/etc/letsencrypt/live/connexion.example.fr/fullchain.pem", cert),
                     ("/etc/letsencrypt/live/connexion.example.fr/privkey.pem", key),
                     ("/var/log/nginx/idp.access.log", str(tmp / "access.log")),
                     ("allow 127.0.0.1;", "")):
        assert old in site, old
        site = site.replace(old, new)
    temps = "\n".join(f"{k}_temp_path {tmp}/{k};" for k in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp / "nginx.conf"
    conf.write_text(f"worker_processes 1;\npid {tmp}/nginx.pid;\n"
                    f"error_log {tmp}/error.log warn;\nevents {{}}\n"
                    f"http {{\n{temps}\n{site}\n}}\n")
    process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp), "-e",
                                str(tmp / "error.log"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"https://127.0.0.1:{https}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/healthz", verify=False, timeout=1)
                break
            except requests.RequestException:
                assert process.poll() is None, (tmp / "error.log").read_text()
                time.sleep(0.05)
        yield {"https": base, "http": f"http://127.0.0.1:{http}", "tmp": tmp}
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_shipped_nginx_site_restricts_metrics_and_hands_a_request_id(deployed_nginx,
                                                                        served):
    base = deployed_nginx["https"]
    assert requests.get(base + "/metrics", verify=False, timeout=5).status_code == 403
    assert requests.get(base + "/readyz", verify=False, timeout=5).status_code == 403
    assert requests.get(base + "/healthz", verify=False, timeout=5).text == "ok\n"
    page = requests.get(base + "/connexion", verify=False, timeout=5,
                        headers={"X-Request-Id": "forged-by-a-client"})
    assert page.status_code == 200
    rid = page.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)  # nginx's $request_id, not the client's
    time.sleep(0.3)
    proxy_lines = [json.loads(l) for l in
                   (deployed_nginx["tmp"] / "access.log").read_text().splitlines()]
    assert any(l["request_id"] == rid and l["path"] == "/connexion" for l in proxy_lines)
    assert any(json.loads(l).get("request_id") == rid for l in _lines(served))
    plain = requests.get(deployed_nginx["http"] + "/connexion?x=1", allow_redirects=False,
                         timeout=5)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_shipped_nginx_site_sends_the_servers_endpoints_to_their_pool(
        deployed_nginx, served, servers_pool):
    """The token, JWKS and discovery requests and the single sign-on (OIDC, SAML) reach
    the sync pool (its access log has their request ids); the sign-in page the threaded one."""
    base = deployed_nginx["https"]
    answers = {
        "discovery": requests.get(base + "/.well-known/openid-configuration", verify=False,
                                  timeout=5),
        "jwks": requests.get(base + "/oidc/jwks", verify=False, timeout=5),
        "token": requests.post(base + "/oidc/token", data={"grant_type": "refresh_token",
                               "refresh_token": "x"}, auth=("nobody", "wrong"),
                               verify=False, timeout=5),
        "authorize": requests.get(base + "/oidc/authorize", params={
            "client_id": "nobody", "response_type": "code", "scope": "openid"},
            verify=False, timeout=5),
        "saml": requests.get(base + "/saml/sso/redirect", verify=False, timeout=5),
        "page": requests.get(base + "/connexion", verify=False, timeout=5)}
    assert answers["discovery"].json()["token_endpoint"].endswith("/oidc/token")
    assert answers["jwks"].json()["keys"]
    assert answers["token"].status_code == 401
    assert answers["token"].json()["error"] == "invalid_client"
    assert answers["authorize"].status_code == 400  # no such client: the refusal page
    assert answers["saml"].status_code == 400  # no AuthnRequest: the same page
    assert answers["page"].status_code == 200
    time.sleep(0.3)  # the access lines
    ids = {what: answer.headers["X-Request-Id"] for what, answer in answers.items()}

    def pool_of(rid: str) -> set[str]:
        return {name for name, pool in (("servers", servers_pool), ("web", served))
                if any(json.loads(l).get("request_id") == rid for l in _lines(pool))}

    assert {what: pool_of(rid) for what, rid in ids.items()} == {
        "discovery": {"servers"}, "jwks": {"servers"}, "token": {"servers"},
        "authorize": {"servers"}, "saml": {"servers"}, "page": {"web"}}
