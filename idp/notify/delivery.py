"""Outbox delivery with retries: what `idp worker` (idp/worker.py) runs on every pass.

Each due message is first claimed (a conditional UPDATE that pushes its next attempt a
lease ahead, committed), then sent, then marked: several workers never send the same
message twice at once, and a worker that dies mid-send leaves the message to be retried
when the lease ends (at-least-once delivery). Retries back off exponentially.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from ..db import db
from ..models import OutboxMessage, utcnow
from .senders import PermanentDeliveryError, Sender, build_sender

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
MAX_DELAY_SECONDS = 3600


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed,
                "errors": self.errors[:20]}


def retry_delay(attempts: int, base_seconds: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour (attempts counts the failed one)."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS))


def _claim(now: datetime, limit: int) -> list[int]:
    due = db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.status == "pending",
                                       OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)).all()
    claimed = []
    for message_id in due:
        won = db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id,
                                        OutboxMessage.status == "pending",
                                        OutboxMessage.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE),
            execution_options={"synchronize_session": False}).rowcount
        if won:
            claimed.append(message_id)
    db.session.commit()
    return claimed


def deliver_due(now: datetime | None = None, limit: int = 200) -> DeliveryReport:
    """Send the messages due at `now` (commits per message). Returns what happened."""
    config = current_app.config
    now = now or utcnow()
    report = DeliveryReport()
    senders: dict[str, Sender] = {}
    try:
        for message_id in _claim(now, limit):
            message = db.session.get(OutboxMessage, message_id)
            try:
                if message.channel not in senders:
                    senders[message.channel] = build_sender(message.channel, config)
                senders[message.channel].send(message)
            except Exception as exc:  # any failure is recorded, never lost
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:500]
                permanent = isinstance(exc, PermanentDeliveryError)
                if permanent or message.attempts >= int(config["OUTBOX_MAX_ATTEMPTS"]):
                    message.status = "failed"
                    report.failed += 1
                else:
                    message.next_attempt_at = now + retry_delay(
                        message.attempts, int(config["OUTBOX_RETRY_SECONDS"]))
                    report.retried += 1
                report.errors.append({"id": message.id, "error": message.last_error})
                log.warning("outbox message %s not delivered: %s", message.id,
                            message.last_error)
            else:
                message.attempts += 1
                message.status = "sent"
                message.sent_at = utcnow()
                message.last_error = None
                report.sent += 1
            db.session.commit()
    finally:
        for sender in senders.values():
            sender.close()
    return report


def purge_old_messages(now: datetime | None = None) -> int:
    """Forget delivered and failed messages older than OUTBOX_KEEP_DAYS (flushes)."""
    cutoff = (now or utcnow()) - timedelta(days=int(current_app.config["OUTBOX_KEEP_DAYS"]))
    return db.session.execute(
        delete(OutboxMessage).where(OutboxMessage.status.in_(("sent", "failed")),
                                    OutboxMessage.created_at < cutoff),
        execution_options={"synchronize_session": False}).rowcount

