"""The ProtocolAdapter contract: a protocol the engine has never seen gets the same plan
as OIDC and SAML by registering an adapter and beginning its requests with
`engine.begin` (how to add a protocol, docs/architecture.md)."""
from __future__ import annotations

import pytest
from flask import Blueprint, request

from idp import create_app
from idp.signin import PendingAuthorization, ProtocolAdapter, register_adapter
from idp.signin.adapter import RequestRefused
from idp.signin.engine import begin
from idp.signin.gate import allow

from ..support.browser import Browser


class DemoAdapter(ProtocolAdapter):
    """Answers in plain text so the test can read what the engine asked of it."""
    protocol = "demo"

    def __init__(self):
        self.ended: list[dict] = []

    def begin(self, source, account):
        if "bad" in request.args:
            raise RequestRefused(("refused by the adapter", 400))
        return PendingAuthorization(
            protocol="demo", client_id="demo-rp", client_name="Démo",
            params=dict(request.args), passive="passive" in request.args), "checked once"

    def fulfil(self, pending, account, validated=None):
        return f"answered {pending.client_id} for {account.identifier} ({validated})"

    def deny(self, pending, account):
        return "denied", 403

    def passive_error(self, pending, step, validated=None):
        return f"passive refused at {step.name}", 400

    def session_ended(self, snapshot):
        self.ended.append(snapshot)


@pytest.fixture
def demo(settings):
    app = create_app(settings)
    bp = Blueprint("demo", __name__)

    @bp.get("/demo/begin")
    def demo_begin():
        return begin("demo")

    app.register_blueprint(bp)
    allow("demo.demo_begin")  # a protocol endpoint: it validates, then the plan decides
    adapter = DemoAdapter()
    register_adapter(app, adapter)
    return app, adapter


def test_a_new_protocol_goes_through_the_plan_then_its_adapter_answers(demo, make):
    app, adapter = demo
    account = make.account()
    browser = Browser(app.test_client())
    page = browser.get("/demo/begin")
    assert page.request.path == "/choisir-profil"  # the same first step as OIDC and SAML
    browser.choose()
    page = browser.submit("/connexion", {"identifier": account.identifier,
                                         "password": account.password})
    assert page.status_code == 200
    assert page.text == f"answered demo-rp for {account.identifier} (None)"  # saved, resumed
    # Signed in now: answered in the request that began it, with what it validated.
    page = browser.get("/demo/begin")
    assert page.text == f"answered demo-rp for {account.identifier} (checked once)"
    # Logout tells every adapter, the new one included.
    browser.logout()
    assert adapter.ended and adapter.ended[-1]["account_id"] == account.id


def test_a_passive_request_gets_the_adapters_error_for_the_due_step(demo):
    app, _ = demo
    response = app.test_client().get("/demo/begin?passive=1")
    assert response.status_code == 400
    assert response.text == "passive refused at wayf"


def test_a_request_its_adapter_refuses_gets_the_adapters_answer_and_no_step(demo):
    app, _ = demo
    client = app.test_client()
    response = client.get("/demo/begin?bad=1")
    assert response.status_code == 400 and response.text == "refused by the adapter"
    assert client.get("/continue").status_code == 302  # nothing pending was saved
