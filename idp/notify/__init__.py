"""Email and SMS: a transactional outbox, pluggable senders, delivery with retries.

Callers queue a message in the same database transaction as the change that causes it
(`queue_email`, `queue_sms`); `idp worker` (idp/worker.py) delivers it later, so a mail
server that is down loses nothing. Links in messages come from `external_url` (the
configured BASE_URL, never the Host header).
"""
from __future__ import annotations

from ..models import OutboxMessage
from .links import external_url
from .outbox import queue_email, queue_sms
from .senders import DeliveryError, PermanentDeliveryError, register_sender

__all__ = ["OutboxMessage", "queue_email", "queue_sms", "external_url", "register_sender",
           "DeliveryError", "PermanentDeliveryError"]
