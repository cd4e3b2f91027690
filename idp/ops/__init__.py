"""Operating the IdP: /healthz, /readyz, /metrics, request ids, request latency, JSON logs.

`init_app(app)` wraps the WSGI app (`OpsMiddleware`): the three operator endpoints are
answered there, before Flask opens a session, runs the gate, the CSRF check or any
before_request hook, so they are never gated (sign-in plan, waiting room) and cost no
store round trip; they are not logged at info either. Every other request gets a request
id (`X-Request-Id` from a trusted proxy, else a new one; echoed in the response) that
the JSON log lines and the audit rows carry, and its latency goes to
`idp_request_duration_seconds` by Flask endpoint.
"""
from __future__ import annotations

import os
import re
import time

from flask import Flask, request

from .. import metrics
from . import health
from .collectors import OutboxCollector

REQUEST_ID_ENV = "idp.request_id"
STARTED_ENV = "idp.started"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
OPS_PATHS = ("/healthz", "/readyz", "/metrics")


class OpsMiddleware:
    def __init__(self, app: Flask, wsgi_app, trusted_proxies: int):
        self.app = app
        self.wsgi_app = wsgi_app
        self.trusted = trusted_proxies > 0

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path in OPS_PATHS:
            return self._ops(path, environ, start_response)
        given = environ.get("HTTP_X_REQUEST_ID", "") if self.trusted else ""
        # 128 random bits in hex (the shape of uuid4().hex, without building a UUID).
        rid = given if given and _REQUEST_ID.match(given) else os.urandom(16).hex()
        environ[REQUEST_ID_ENV] = rid
        environ[STARTED_ENV] = time.perf_counter()

        def start(status, headers, exc_info=None):
            headers.append(("X-Request-Id", rid))  # the app never sets one itself
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)

    def _ops(self, path, environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", b"",
                           "text/plain; charset=utf-8", [("Allow", "GET, HEAD")])
        if path == "/healthz":
            return _answer(start_response, "200 OK", b"ok\n", "text/plain; charset=utf-8")
        if path == "/readyz":
            with self.app.app_context():
                problems = health.readiness(self.app)
            if problems:
                body = "".join(f"{what}: {why}\n" for what, why in problems.items())
                return _answer(start_response, "503 Service Unavailable", body.encode(),
                               "text/plain; charset=utf-8", [("Retry-After", "5")])
            return _answer(start_response, "200 OK", b"ready\n", "text/plain; charset=utf-8")
        body, content_type = metrics.exposition(self.app)
        return _answer(start_response, "200 OK", body, content_type)


def _answer(start_response, status, body: bytes, content_type: str, extra=()):
    start_response(status, [("Content-Type", content_type),
                            ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store"), *extra])
    return [body]


def init_app(app: Flask) -> None:
    """Call last in create_app: the middleware wraps every other WSGI layer."""
    app.wsgi_app = OpsMiddleware(app, app.wsgi_app, int(app.config["TRUSTED_PROXIES"]))

    by_endpoint: dict = {}  # the histogram's child per endpoint (labels() takes a lock)

    @app.teardown_request
    def observe_latency(exc):
        started = request.environ.get(STARTED_ENV)
        if started is not None:
            endpoint = request.endpoint or "unmatched"
            child = by_endpoint.get(endpoint)
            if child is None:
                child = by_endpoint[endpoint] = metrics.REQUEST_SECONDS.labels(
                    endpoint=endpoint)
            child.observe(time.perf_counter() - started)


metrics.register_collector(OutboxCollector)
