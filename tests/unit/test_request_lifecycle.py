"""idp/request_lifecycle.py: the app-wide hooks, run by one before and one after hook."""
from __future__ import annotations

import pytest
from flask import Flask

from idp import request_lifecycle
from idp.request_lifecycle import every_request


def _app_with_hooks(ran: list[str]) -> Flask:
    app = Flask(__name__)

    @app.before_request
    @every_request
    def first():
        ran.append("before: every")

    @app.before_request
    def browser():
        ran.append("before: browser")

    @app.after_request
    @every_request
    def registered_first(response):
        ran.append("after: every")
        return response

    @app.after_request
    def registered_last(response):
        ran.append("after: browser")
        return response

    @app.get("/page")
    def page():
        return "page"

    @app.get("/oidc/jwks")
    def jwks():
        return {"keys": []}

    request_lifecycle.init_app(app)
    return app


def test_a_browser_page_runs_every_hook_in_flasks_order():
    ran: list[str] = []
    app = _app_with_hooks(ran)
    assert app.test_client().get("/page").status_code == 200
    # Flask's order: before hooks as registered, after hooks the last registered first.
    assert ran == ["before: every", "before: browser", "after: browser", "after: every"]


def test_a_servers_endpoint_runs_only_the_hooks_marked_every_request():
    ran: list[str] = []
    app = _app_with_hooks(ran)
    assert app.test_client().get("/oidc/jwks").status_code == 200
    assert ran == ["before: every", "after: every"]


def test_flask_sees_one_before_and_one_after_hook():
    app = _app_with_hooks([])
    assert len(app.before_request_funcs[None]) == 1
    assert len(app.after_request_funcs[None]) == 1


def test_a_before_hook_that_answers_ends_the_before_hooks():
    app = Flask(__name__)
    ran: list[str] = []

    @app.before_request
    def answers():
        return "answered here", 403

    @app.before_request
    def never():
        ran.append("never")

    @app.get("/page")
    def page():
        return "page"

    request_lifecycle.init_app(app)
    response = app.test_client().get("/page")
    assert (response.status_code, response.text) == (403, "answered here")
    assert ran == []


def test_an_async_hook_is_refused_at_start_up():
    app = Flask(__name__)

    @app.before_request
    async def later():
        return None

    with pytest.raises(TypeError, match="async hooks"):
        request_lifecycle.init_app(app)


def test_the_idp_folds_its_hooks_and_marks_the_ones_servers_need(app):
    before, after = app.before_request_funcs[None], app.after_request_funcs[None]
    assert [f.__name__ for f in before] == ["run_before"]
    assert [f.__name__ for f in after] == ["run_after"]
    client = app.test_client()
    jwks = client.get("/oidc/jwks")
    # The security headers (every_request) still reach a server's answer.
    assert jwks.headers["Cache-Control"] == "no-store"
    assert jwks.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path, served", [
    ("/oidc/token", True), ("/oidc/jwks", True), ("/.well-known/openid-configuration", True),
    ("/oidc/token-bis", False), ("/oidc/authorize", False), ("/connexion", False)])
def test_server_paths_are_exact_but_the_well_known_documents(path, served):
    assert request_lifecycle.is_server_path(path) is served


def test_a_servers_endpoint_sets_no_cookie_even_asked_for_a_language(app):
    client = app.test_client()
    client.set_cookie("idp_session", "x" * 40)
    answer = client.get("/oidc/userinfo?lang=en")
    assert answer.status_code == 401 and "Set-Cookie" not in answer.headers
    assert client.get("/connexion?lang=en").headers.get("Set-Cookie")  # a page does
