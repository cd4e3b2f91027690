"""Senders: one per (channel, backend), chosen from the settings by the worker.

Built in: ("email", "smtp"), ("email", "outbox") and ("sms", "outbox"). The backend of a
channel is the setting `<CHANNEL>_BACKEND` (EMAIL_BACKEND, SMS_BACKEND; "outbox" when
unset). Another backend registers itself with `register_sender(channel, backend, factory)`;
a module named `idp.notify.<channel>_<backend>` (e.g. `idp/notify/sms_http.py`) is imported
on first use, so adding a gateway needs no edit here.

A sender's `send(message)` returns when the message is accepted, raises `DeliveryError`
for a failure worth retrying, `PermanentDeliveryError` for one that never will succeed.
"""
from __future__ import annotations

import importlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Callable, Mapping, Protocol

import click

from ..models import OutboxMessage


class DeliveryError(Exception):
    """Delivery failed this time; the worker retries later."""


class PermanentDeliveryError(DeliveryError):
    """Delivery can never succeed (recipient refused): no retry."""


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> None: ...

    def close(self) -> None: ...


_FACTORIES: dict[tuple[str, str], Callable[[Mapping], Sender]] = {}


def register_sender(channel: str, backend: str, factory: Callable[[Mapping], Sender]) -> None:
    """Make `factory(settings) -> Sender` the sender of `channel` when its backend is
    `backend`."""
    _FACTORIES[(channel, backend)] = factory


def backend_for(channel: str, settings: Mapping) -> str:
    return str(settings.get(f"{channel.upper()}_BACKEND") or "outbox")


def build_sender(channel: str, settings: Mapping) -> Sender:
    backend = backend_for(channel, settings)
    if (channel, backend) not in _FACTORIES:
        try:
            importlib.import_module(f"{__package__}.{channel}_{backend}")
        except ModuleNotFoundError:
            pass
    if (channel, backend) not in _FACTORIES:
        raise LookupError(f"no sender for {channel} backend {backend!r}")
    return _FACTORIES[(channel, backend)](settings)


class ConsoleOutboxSender:
    """Dev outbox: the message stays in the table (shown at /dev/outbox) and is printed
    on the worker's console; nothing leaves the machine."""

    def __init__(self, settings: Mapping):
        self.settings = settings

    def send(self, message: OutboxMessage) -> None:
        bar = "-" * 72
        head = f"{message.channel} to {message.recipient} ({message.template})"
        subject = f"Subject: {message.subject}\n\n" if message.subject else ""
        click.echo(f"{bar}\n{head}\n{subject}{message.text.strip()}\n{bar}", err=True)

    def close(self) -> None:
        pass


class SMTPSender:
    """Plain SMTP with optional STARTTLS and login; one connection per worker pass."""

    def __init__(self, settings: Mapping):
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            s = self.settings
            conn = smtplib.SMTP(s["SMTP_HOST"], int(s["SMTP_PORT"]),
                                timeout=float(s.get("SMTP_TIMEOUT") or 10))
            if s.get("SMTP_STARTTLS"):
                conn.starttls(context=ssl.create_default_context())
            if s.get("SMTP_USER"):
                conn.login(s["SMTP_USER"], s.get("SMTP_PASSWORD") or "")
            self._conn = conn
        return self._conn

    def build(self, message: OutboxMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings["SMTP_FROM"]
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.settings["SMTP_FROM"].rsplit("@", 1)[-1]
                                        .strip("> "))
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        return mail

    def send(self, message: OutboxMessage) -> None:
        mail = self.build(message)
        try:
            self._connection().send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            self.close()
            if codes and all(code >= 500 for code in codes):
                raise PermanentDeliveryError(f"recipient refused: {codes}") from exc
            raise DeliveryError(f"recipient deferred: {codes}") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            if exc.smtp_code >= 500 and exc.smtp_code not in (530, 535, 554):
                raise PermanentDeliveryError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise DeliveryError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._conn = None


register_sender("email", "smtp", SMTPSender)
register_sender("email", "outbox", ConsoleOutboxSender)
register_sender("sms", "outbox", ConsoleOutboxSender)
