"""A real HTTP SMS gateway on a free local port (http.server in a thread), the stand-in
for the operator we cannot reach from tests.

It checks the bearer token, collects the JSON bodies it accepts (`gateway.messages`,
newest last) and can fail on demand: `gateway.fail(503, times=2)` answers the next two
requests with 503, `gateway.stop()` takes it down. Fixtures (a pytest plugin listed in
tests/conftest.py): `sms_gateway`, and `use_sms_gateway` to deliver through it.
"""
from __future__ import annotations

import json
import re
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

TOKEN = "test-gateway-token"
CODE = re.compile(r"\b(\d{6})\b")


class SmsGateway:
    def __init__(self):
        self.messages: list[dict] = []
        self.requests: list[dict] = []   # every request: headers and body, accepted or not
        self.lock = threading.Lock()
        self._failures: list[int] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with gateway.lock:
                    gateway.requests.append({"headers": dict(self.headers), "raw": raw})
                    status = gateway._failures.pop(0) if gateway._failures else None
                if status is None and self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    status = 401
                if status is None and self.path != "/v1/sms":
                    status = 404
                body = None
                if status is None:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        status = 400
                if status is None:
                    with gateway.lock:
                        gateway.messages.append(body)
                    status = 201
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"status": status}).encode())

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1/sms"
        self.thread: threading.Thread | None = None

    def start(self) -> "SmsGateway":
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread = None

    def fail(self, status: int = 503, times: int = 1) -> None:
        """Answer the next `times` requests with `status`."""
        with self.lock:
            self._failures.extend([status] * times)

    def settings(self, body: str = '{"to": "{to}", "text": "{text}", "ref": "{id}"}') -> dict:
        return {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": self.url,
                "SMS_GATEWAY_TOKEN": TOKEN, "SMS_GATEWAY_BODY": body,
                "SMS_GATEWAY_AUTH_HEADER": "Authorization", "SMS_GATEWAY_TIMEOUT": 3}

    def to(self, phone: str) -> list[dict]:
        return [m for m in self.messages if m.get("to") == phone]

    def last_code(self, phone: str) -> str:
        texts = [m["text"] for m in self.to(phone)]
        assert texts, f"no SMS to {phone}"
        match = CODE.search(texts[-1])
        assert match, texts[-1]
        return match.group(1)

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.02)
        raise AssertionError(f"expected {count} SMS, got {len(self.messages)}")


@pytest.fixture
def sms_gateway():
    gateway = SmsGateway().start()
    yield gateway
    gateway.stop()


@contextmanager
def gateway_settings(app, gateway: SmsGateway, **body):
    """Point `app` at `gateway` for the duration (restores the previous settings)."""
    values = gateway.settings(**body)
    saved = {k: app.config.get(k) for k in values}
    app.config.update(values)
    try:
        yield gateway
    finally:
        app.config.update(saved)


@pytest.fixture
def use_sms_gateway(app, sms_gateway):
    """The worker delivers SMS through the local gateway for this test."""
    with gateway_settings(app, sms_gateway):
        yield sms_gateway
