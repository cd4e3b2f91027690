"""A real SMTP server (aiosmtpd) on a free local port, collecting what it receives.

Use the `smtp_server` fixture (function scope) and point the app at it with
`smtp_settings(app, server)`, or read `server.messages` (email.message.EmailMessage
objects, newest last). `server.refuse(code)` makes it answer RCPT with that code, and
`server.stop()` takes it down, to show that a mail server outage loses nothing.
The fixtures (`smtp_server`, `use_smtp`) come from this module as a pytest plugin listed
in tests/conftest.py.
"""
from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://[^\s<>\"']+")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, server: "SMTPServer"):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.server.refusal:
            return self.server.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server.lock:
            self.server.messages.append(message)
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


class SMTPServer:
    def __init__(self):
        self.port = _free_port()
        self.host = "127.0.0.1"
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refusal: str | None = None
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    def start(self) -> "SMTPServer":
        self.controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def refuse(self, reply: str | None = "550 5.1.1 No such user") -> None:
        """Answer RCPT with this reply (None: accept again)."""
        self.refusal = reply

    def settings(self) -> dict:
        return {"EMAIL_BACKEND": "smtp", "SMTP_HOST": self.host, "SMTP_PORT": self.port,
                "SMTP_STARTTLS": False, "SMTP_USER": None, "SMTP_PASSWORD": None}

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.02)
        raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")

    @staticmethod
    def text_of(message) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @staticmethod
    def html_of(message) -> str:
        part = message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    def links(self, message=None) -> list[str]:
        """Links in the text part of `message` (default: the last one received)."""
        message = message if message is not None else self.messages[-1]
        return LINK.findall(self.text_of(message))


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@contextmanager
def smtp_settings(app, server: SMTPServer):
    """Point `app` at `server` for the duration (restores the previous settings)."""
    saved = {k: app.config.get(k) for k in server.settings()}
    app.config.update(server.settings())
    try:
        yield server
    finally:
        app.config.update(saved)


@pytest.fixture
def use_smtp(app, smtp_server):
    """The app delivers through the real SMTP server for this test."""
    with smtp_settings(app, smtp_server):
        yield smtp_server
