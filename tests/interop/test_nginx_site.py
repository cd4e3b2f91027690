"""The shipped nginx site (deploy/nginx/idp.conf) in front of both pools of README "Two
pools" (issue 16, point 6; issue 14's pools): /metrics and /readyz kept to the loopback,
nginx's request id in both logs, HTTP sent to HTTPS, the servers' endpoints and the single
sign-on on the sync pool, and the threaded pool answering them while the sync one is down."""
from __future__ import annotations

import json
import re
import time

import pytest
import requests

from tests.support.ops_served import log_lines, nginx_site, pool_of
from tests.support.served import free_port


@pytest.fixture(scope="module")
def deployed_nginx(ops_idp, ops_servers_pool, tmp_path_factory):
    with nginx_site(ops_idp.port, ops_servers_pool.port,
                    tmp_path_factory.mktemp("nginx")) as site:
        yield site


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_shipped_nginx_site_restricts_metrics_and_hands_a_request_id(deployed_nginx,
                                                                        ops_idp):
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
    assert any(json.loads(l).get("request_id") == rid for l in log_lines(ops_idp))
    plain = requests.get(deployed_nginx["http"] + "/connexion?x=1", allow_redirects=False,
                         timeout=5)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_shipped_nginx_site_sends_the_servers_endpoints_to_their_pool(
        deployed_nginx, ops_idp, ops_servers_pool):
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

    assert {what: pool_of(rid, servers=ops_servers_pool, web=ops_idp)
            for what, rid in ids.items()} == {
        "discovery": {"servers"}, "jwks": {"servers"}, "token": {"servers"},
        "authorize": {"servers"}, "saml": {"servers"}, "page": {"web"}}


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_threaded_pool_answers_while_the_sync_pool_is_down(ops_idp, tmp_path):
    """idp-servers not started (or restarting): its paths reach idp-web (`backup`), no 502."""
    with nginx_site(ops_idp.port, free_port(), tmp_path) as site:  # nothing on that port
        jwks = requests.get(site["https"] + "/oidc/jwks", verify=False, timeout=5)
        authorize = requests.get(site["https"] + "/oidc/authorize", params={
            "client_id": "nobody", "response_type": "code", "scope": "openid"},
            verify=False, timeout=5)
    assert jwks.status_code == 200 and jwks.json()["keys"]
    assert authorize.status_code == 400  # the refusal page, not nginx's 502
    time.sleep(0.3)  # the access lines
    assert pool_of(jwks.headers["X-Request-Id"], web=ops_idp) == {"web"}
