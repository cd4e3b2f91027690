"""`make cluster` as an operator runs it (scripts/cluster.py, tests/support/cluster.py):
two `idp serve` nodes that share nothing but PostgreSQL, Redis and the environment, an
`idp worker`, nginx in front (IDP_TRUSTED_PROXIES=1). Real processes, real HTTP.

- a sign-in whose every request goes to the other node than the one before, redeemed at
  the node that did not issue the code; the same through nginx, which spreads it over both;
- `idp keys rotate` (and `--saml`) run as one node: both nodes publish the same JWKS and
  SAML metadata within 2 s, and ID tokens from each verify against the other's JWKS;
- a node killed under load: the other keeps answering, only requests in flight fail;
- 150 wrong passwords from one client address through nginx: a family at another address
  signs in at once, and the audit names the attacker's address, not nginx's.
"""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent
from tests.support.cluster import browser_from, cluster, crossing_browser  # noqa: F401
from tests.support.oidc import authorize_params, pkce_pair, query
from tests.support.served import HttpBrowser, free_port

pytestmark = pytest.mark.interop
ATTACKER, FAMILY = "127.0.0.5", "127.0.0.6"
# A request in flight when its node is killed: nginx answers 502, or, when the node had
# started answering, cuts the response (a chunked body left unfinished, a connection
# closed); those are counted as LOST, not left to end a load thread with an exception.
CUT = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
LOST = 0


def new_rp(make):
    return make.oidc_client(redirect_uris=[f"http://127.0.0.1:{free_port()}/cb"])


def sign_in_for_code(browser: HttpBrowser, start: str, rp, family) -> dict:
    """An authorization code flow from `start` (a base URL) to the RP's redirect URI."""
    verifier, challenge = pkce_pair()
    url = requests.Request("GET", start + "/oidc/authorize",
                           params=authorize_params(rp, challenge=challenge)).prepare().url
    browser.sign_in(url, family.identifier, family.password, stop_at=rp.redirect_uri)
    assert browser.page is None, f"stopped at {browser.url}"
    return {**query(browser.url), "verifier": verifier}


def redeem(base: str, rp, front: dict) -> dict:
    response = requests.post(base + "/oidc/token", auth=(rp.client_id, rp.client_secret),
                             data={"grant_type": "authorization_code", "code": front["code"],
                                   "redirect_uri": rp.redirect_uri,
                                   "code_verifier": front["verifier"]}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def claims(id_token: str, jwks_from: str) -> dict:
    """The ID token's claims, its signature checked against `jwks_from`'s JWKS."""
    keys = KeySet.import_key_set(requests.get(jwks_from + "/oidc/jwks", timeout=5).json())
    return jwt.decode(id_token, keys).claims


def test_a_sign_in_crosses_the_nodes_request_by_request(cluster, make):
    rp, family = new_rp(make), make.account()
    node1, node2 = (node.url for node in cluster.nodes)
    browser = crossing_browser(cluster)
    front = sign_in_for_code(browser, node1, rp, family)
    served = browser.http.served
    assert len(served) >= 4 and set(served) == {node.port for node in cluster.nodes}
    assert front["iss"] == cluster.url  # one issuer: nginx's address
    issued_by = served[-1]  # the node that answered with the redirect to the RP
    other = node2 if issued_by == cluster.nodes[0].port else node1
    tokens = redeem(other, rp, front)
    for jwks_from in (node1, node2):
        assert claims(tokens["id_token"], jwks_from)["aud"] in (rp.client_id, [rp.client_id])
    # What the nodes know came from the database, the store and the environment: their
    # directories hold their output, gunicorn's control socket and their own metrics
    # files (IDP_METRICS_DIR), no keys/ or var/.
    for node in cluster.nodes:
        assert {p.name for p in node.directory.iterdir()} <= {"output.log", "gunicorn.ctl",
                                                              "metrics"}
    assert cluster.dead() == []  # the nodes and the worker run


def test_a_sign_in_through_nginx_is_spread_over_both_nodes(cluster, make):
    rp, family = new_rp(make), make.account()
    before = len(cluster.nginx.access_lines())
    front = sign_in_for_code(HttpBrowser(), cluster.url, rp, family)
    tokens = redeem(cluster.url, rp, front)
    assert claims(tokens["id_token"], cluster.url)["iss"] == cluster.url
    answered = {line.rsplit(" ", 1)[1] for line in cluster.nginx.access_lines()[before:]}
    assert answered == {f"127.0.0.1:{node.port}" for node in cluster.nodes}


def _published(cluster) -> list[tuple[str, str]]:
    return [(requests.get(n.url + "/oidc/jwks", timeout=5).text,
             requests.get(n.url + "/saml/metadata", timeout=5).text) for n in cluster.nodes]


def test_keys_rotated_on_one_node_are_published_by_every_node_within_2_s(
        cluster, make, keys_restored):
    first = _published(cluster)
    assert first[0] == first[1]
    for args in (["keys", "rotate"], ["keys", "rotate", "--saml"]):
        done = cluster.idp("node1", *args)
        assert done.returncode == 0, done.stderr
        changed_at, seen = time.monotonic(), None
        while time.monotonic() - changed_at < 2.0:
            seen = _published(cluster)
            if seen[0] == seen[1] and seen[0] != first[0]:
                break
            time.sleep(0.05)
        assert seen[0] == seen[1] and seen[0] != first[0], f"{args}: not everywhere in 2 s"
        first = seen
    time.sleep(2.5)  # the new OIDC keys sign 2 s after the rotation, on every node at once
    rp = new_rp(make)
    for issuer, verifier in ((0, 1), (1, 0)):
        node = cluster.nodes[issuer].url
        front = sign_in_for_code(HttpBrowser(), node, rp, make.account())
        token = redeem(node, rp, front)["id_token"]
        assert claims(token, cluster.nodes[verifier].url)["aud"] in (rp.client_id, [rp.client_id])
        kid = jwt.decode(token, KeySet.import_key_set(
            requests.get(node + "/oidc/jwks", timeout=5).json())).header["kid"]
        assert kid not in [k["kid"] for k in keys_restored]  # signed with the new key


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_node_killed_under_load_costs_only_requests_in_flight(cluster, make):
    rp, statuses, after_kill, stop = new_rp(make), Counter(), Counter(), threading.Event()
    browsers = []
    for family in (make.account(), make.account()):
        browser = HttpBrowser()
        browser.sign_in(cluster.url + "/connexion", family.identifier, family.password)
        browsers.append((browser, family))
    killed_at = []

    def note(status: int):
        statuses[status] += 1
        if killed_at and time.monotonic() > killed_at[0] + 0.5:
            after_kill[status] += 1

    def browse(browser, family):
        while not stop.is_set():
            try:
                page = browser.http.get(cluster.url + "/compte", allow_redirects=False,
                                        timeout=30)
            except CUT:
                note(LOST)
                continue
            note(page.status_code if family.identifier in page.text else -page.status_code)

    def introspect():
        while not stop.is_set():
            try:
                page = requests.post(cluster.url + "/oidc/introspect",
                                     data={"token": "inconnu"},
                                     auth=(rp.client_id, rp.client_secret), timeout=30)
            except CUT:
                note(LOST)
                continue
            note(page.status_code)

    threads = [threading.Thread(target=browse, args=pair) for pair in browsers]
    threads += [threading.Thread(target=introspect) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        killed_at.append(time.monotonic())
        cluster.kill("node2")
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    failed = {status: n for status, n in statuses.items() if status != 200}
    assert statuses[200] > 50, statuses
    assert set(failed) <= {502, LOST} and sum(failed.values()) <= len(threads), statuses
    assert set(after_kill) == {200} and after_kill[200] > 10, after_kill
    assert requests.get(cluster.node("node1").url + "/connexion", timeout=5).status_code == 200
    cluster.start_node("node2")  # for the tests after this one


def test_an_attacker_behind_nginx_locks_out_no_family_and_is_named_in_the_audit(
        cluster, make, app):
    """The issue's field report: 110 wrong passwords from one attacker behind nginx, then
    no family could sign in. 150 here, on as many identifiers: the per-address counter
    passes its threshold (100) for the attacker's address alone."""
    attacker = browser_from(ATTACKER)
    attacker.sign_in(cluster.url + "/connexion", "p.victime1000", "Mauvais-Passe-2026")
    for n in range(1, 150):
        page = attacker.submit({"identifier": f"p.victime{1000 + n}",
                                "password": "Mauvais-Passe-2026"})
        assert page.status_code in (400, 429), page.status_code  # refused, or throttled
    family = make.account()
    page = browser_from(FAMILY).sign_in(cluster.url + "/connexion", family.identifier,
                                        family.password)
    assert page.status_code == 200 and page.url == cluster.url + "/", page.url
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.action, AuditEvent.ip).where(
            AuditEvent.action.in_(["login_failed", "login_throttled", "login",
                                   "lockout_started"]))).all()
    seen = Counter(rows)
    attempts = Counter()
    for (action, ip), n in seen.items():
        if action.startswith("login_"):  # login_failed, login_throttled
            attempts[ip] += n
    assert attempts == {ATTACKER: 150}, seen
    assert seen[("lockout_started", ATTACKER)] >= 1 and seen[("login", FAMILY)] == 1, seen
    store = app.extensions["idp"]["store"]
    assert int(store.get(f"fail:ip:{ATTACKER}") or 0) >= 100
    assert store.get("fail:ip:127.0.0.1") is None and store.get(f"fail:ip:{FAMILY}") is None
