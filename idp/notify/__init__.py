"""Email and SMS: a transactional outbox, pluggable senders, the delivery worker.

Callers queue a message in the same database transaction as the change that causes it
(`queue_email`, `queue_sms`); `idp worker` delivers it later with retries, so a mail
server that is down loses nothing. Links in messages come from `external_url` (the
configured BASE_URL, never the Host header).
"""
from __future__ import annotations

from ..models import OutboxMessage
from . import devpage
from .links import external_url
from .outbox import queue_email, queue_sms
from .senders import DeliveryError, PermanentDeliveryError, register_sender

__all__ = ["OutboxMessage", "queue_email", "queue_sms", "external_url", "register_sender",
           "DeliveryError", "PermanentDeliveryError", "init_app"]


def init_app(app) -> None:
    """The dev outbox page, only when DEBUG or DEV_OUTBOX is on."""
    if app.config.get("DEBUG") or app.config.get("DEV_OUTBOX"):
        app.register_blueprint(devpage.bp)
