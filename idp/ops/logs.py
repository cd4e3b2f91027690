"""Log lines as JSON objects, one per line, with the request id; gunicorn's access log in
the same shape (`GunicornLogger`).

Standard library only: a JSON line is `json.dumps` of a few record fields, and gunicorn's
logger has to be subclassed anyway to drop query strings and the operator endpoints.

What a line never holds: a password, a code or a token. The code never logs one (audit.py
says the same for audit rows), the access log writes the path without its query string
(reset links, authorization codes and `state` travel there), and `scrub()` blanks
anything shaped like `password=...`, `code=...`, `token=...` or a Bearer header in a
message as a second line of defence (tests/functional/test_ops_logs.py drives sign-in,
token and refresh and reads every line).
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone

from flask import has_request_context, request
from gunicorn.glogging import Logger as _GunicornBaseLogger

HANDLER_NAME = "idp-json"
QUIET_LOGGERS = ("sqlalchemy", "urllib3", "saml2", "authlib", "xmlschema")
OPS_PATHS = ("/healthz", "/readyz", "/metrics")
_SECRET = re.compile(
    r"(?i)\b((?:[a-z_]*password|passwd|pwd|code|code_verifier|[a-z_]*token|secret|"
    r"client_secret|SAMLResponse|SAMLRequest)[\"']?\s*[=:]\s*[\"']?)([^\s&\"',;]+)")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


def scrub(text: str) -> str:
    text = _SECRET.sub(lambda m: m.group(1) + "[redacted]", text)
    return _BEARER.sub(lambda m: m.group(1) + " [redacted]", text)


def _request_id() -> str | None:
    if has_request_context():
        return request.environ.get("idp.request_id")
    return None


class JsonFormatter(logging.Formatter):
    FIELDS = ("method", "path", "status", "bytes", "duration_ms", "remote_addr",
              "user_agent", "request_id")

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc)
                .isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name,
                "message": scrub(record.getMessage())}
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if "request_id" not in line:
            rid = _request_id()
            if rid:
                line["request_id"] = rid
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", as_json: bool = True, stream=None) -> None:
    """One handler on the root logger (idempotent): JSON lines on stderr."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Even at DEBUG: SQLAlchemy would log statements with their parameters (an outbox
    # row's text holds a reset link), urllib3 every URL it opens.
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's error and access logs as JSON lines (`logger_class` in admin/serve.py).

    An access line: method, path (no query string), status, bytes, duration_ms, the
    client's address (after IDP_TRUSTED_PROXIES), user agent and request id. /healthz,
    /readyz and /metrics are not logged (probes every few seconds would drown the rest)."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        path = environ.get("PATH_INFO", "")
        if path in OPS_PATHS:
            return
        try:
            status = int(str(resp.status).split(None, 1)[0])
        except (ValueError, AttributeError):
            status = None
        try:
            self.access_log.info("%s %s %s", environ.get("REQUEST_METHOD"), path, status,
                                 extra={
                "method": environ.get("REQUEST_METHOD"), "path": path, "status": status,
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "user_agent": (environ.get("HTTP_USER_AGENT") or "")[:200] or None,
                "request_id": environ.get("idp.request_id")})
        except Exception:  # noqa: BLE001 - a log line never breaks a response
            self.exception("access log line not written")
