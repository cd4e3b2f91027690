"""The single gate: a before_request hook that sends the browser to the first unfinished
step. Views never check gating on their own.

Only the endpoints in the allowlist pass without the plan being complete: the steps
themselves, logout, static files, protocol endpoints (they validate and then hand over to
the plan) and public pages (help, recovery, errors).
"""
from __future__ import annotations

from flask import Flask, redirect, request, session, url_for

from .plan import first_needed_step

_ALLOWED_ENDPOINTS: set[str] = {"static"}
_ALLOWED_BLUEPRINTS: set[str] = set()


def allow(*endpoints: str) -> None:
    """Let these endpoints through without a complete plan."""
    _ALLOWED_ENDPOINTS.update(endpoints)


def allow_blueprint(*names: str) -> None:
    _ALLOWED_BLUEPRINTS.update(names)


def is_allowed(endpoint: str | None) -> bool:
    if endpoint is None or endpoint in _ALLOWED_ENDPOINTS:
        return True
    return endpoint.split(".", 1)[0] in _ALLOWED_BLUEPRINTS


def init_app(app: Flask) -> None:
    @app.before_request
    def gate():
        if is_allowed(request.endpoint):
            return None
        step = first_needed_step()
        if step is None:
            return None
        if request.method == "GET" and request.endpoint != "signin.resume":
            session["next"] = request.full_path.rstrip("?")
        return redirect(url_for(step.endpoint))
