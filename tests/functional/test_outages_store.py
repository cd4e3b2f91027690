"""Redis down: the token endpoint and the other endpoints relying parties' servers call
answer the protocol's JSON error (503 temporarily_unavailable), pages our French 503
page, and everything works again once Redis is back, without restarting the IdP.

Redis is this test's own (tests/support/servers.py: private_redis), killed and started
again; the shared one is never touched. Runs on both database backends."""
from __future__ import annotations

import pytest

from ..support.browser import Browser


@pytest.fixture
def redis_node(settings, private_redis, node):
    """The IdP with its store in the private Redis (database as the suite's)."""
    return node(REDIS_URL=private_redis.url, PROPAGATE_EXCEPTIONS=False)


@pytest.fixture
def client(redis_node):
    return redis_node.test_client()


@pytest.fixture
def browser(redis_node):
    return Browser(redis_node.test_client())


def _is_the_json_503(answer) -> None:
    assert answer.status_code == 503, answer.text[:300]
    assert answer.mimetype == "application/json"
    assert answer.json["error"] == "temporarily_unavailable"
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_token_endpoint_answers_the_json_503(private_redis, client, flow, rp, parent):
    tokens = flow.tokens_for(rp, parent)
    code = flow.code_for(rp, parent)["code"]
    auth = (rp.client_id, rp.client_secret)
    private_redis.stop()
    _is_the_json_503(flow.token(rp, code))
    _is_the_json_503(client.post("/oidc/token", auth=auth, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}))
    private_redis.start()  # empty, like a Redis without persistence
    answer = client.post("/oidc/token", auth=auth, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert answer.status_code == 200, answer.json  # the outage spent nothing


def test_userinfo_introspection_and_revocation_answer_the_json_503(private_redis, client,
                                                                   flow, rp, parent):
    tokens = flow.tokens_for(rp, parent)
    auth = (rp.client_id, rp.client_secret)
    private_redis.stop()
    _is_the_json_503(client.get("/oidc/userinfo", headers={
        "Authorization": "Bearer " + tokens["access_token"]}))
    _is_the_json_503(client.post("/oidc/introspect", auth=auth,
                                 data={"token": tokens["access_token"]}))
    _is_the_json_503(client.post("/oidc/revoke", auth=auth,
                                 data={"token": tokens["access_token"]}))


def test_pages_answer_the_french_503_page(private_redis, browser, make):
    parent = make.account()
    assert browser.sign_in(parent).request.path == "/"
    private_redis.stop()
    page = browser.get("/")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "Le service est momentanément indisponible." in page.text
    private_redis.start()
    assert browser.get("/connexion").status_code == 200  # the session is gone with Redis
