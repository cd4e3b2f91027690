"""Outbox delivery with retries: what `idp worker` (idp/worker.py) runs on every pass.

Due messages are claimed a batch at a time, in one statement that pushes their next
attempt a lease ahead (committed): on PostgreSQL the rows are picked `FOR UPDATE SKIP
LOCKED`, so any number of workers claim disjoint batches without waiting on each other;
SQLite, which has no row locks, runs the same UPDATE under its database write lock (one
writer at a time: safe, meant for a single worker). Then each message is sent and marked:
several workers never send the same message twice at once, and a worker that dies
mid-send leaves the message to be retried when the lease ends (at-least-once delivery).
Retries back off exponentially.

Channels: "email" and "sms" (rendered by notify/), and "logout": back-channel logout
notices to OIDC relying parties (oidc/logout.py queues them and registers their sender).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from .. import metrics
from ..db import db
from ..models import OutboxMessage, utcnow
from .senders import PermanentDeliveryError, Sender, build_sender

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
CLAIM_BATCH = 20  # messages claimed per statement: small, so several workers share a burst
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


def _claim(now: datetime, limit: int, channels=None) -> list[int]:
    """Claim up to `limit` due messages for this worker (committed); their ids."""
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                  *([OutboxMessage.channel.in_(channels)] if channels else []))
           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    claim = update(OutboxMessage).values(next_attempt_at=now + LEASE)
    if db.engine.dialect.name == "postgresql":
        # The rows are picked once, in a MATERIALIZED CTE: as `id IN (subquery)` the
        # planner may rescan the subquery (seen: one worker claimed 120 rows with LIMIT 20
        # while the others found none). Rows another worker is claiming are skipped.
        picked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        claim = claim.where(OutboxMessage.id == picked.c.id)
    else:  # SQLite: the statement runs under the database's write lock
        claim = claim.where(OutboxMessage.id.in_(due.scalar_subquery()),
                            OutboxMessage.status == "pending")
    claimed = db.session.scalars(claim.returning(OutboxMessage.id),
                                 execution_options={"synchronize_session": False}).all()
    db.session.commit()
    return sorted(claimed)


def deliver_due(now: datetime | None = None, limit: int = 200,
                batch: int = CLAIM_BATCH, channels=None) -> DeliveryReport:
    """Send the messages due at `now` (commits per message), claiming `batch` at a time
    until none is due or `limit` were handled; only `channels` when given. Returns what
    happened."""
    config = current_app.config
    now = now or utcnow()
    report = DeliveryReport()
    senders: dict[str, Sender] = {}
    try:
        for message_id in _claimed(now, limit, batch, channels):
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
                    _count(message.channel, "failed")
                else:
                    message.next_attempt_at = now + retry_delay(
                        message.attempts, int(config["OUTBOX_RETRY_SECONDS"]))
                    report.retried += 1
                    _count(message.channel, "retried")
                report.errors.append({"id": message.id, "error": message.last_error})
                log.warning("outbox message %s not delivered: %s", message.id,
                            message.last_error)
            else:
                message.attempts += 1
                message.status = "sent"
                message.sent_at = utcnow()
                message.last_error = None
                report.sent += 1
                _count(message.channel, "sent")
            db.session.commit()
    finally:
        for sender in senders.values():
            sender.close()
    return report


def _claimed(now: datetime, limit: int, batch: int, channels=None):
    handled = 0
    while handled < limit:
        ids = _claim(now, min(batch, limit - handled), channels)
        if not ids:
            return
        handled += len(ids)
        yield from ids


def _count(channel: str, outcome: str) -> None:
    metrics.OUTBOX_DELIVERIES.labels(channel=channel, outcome=outcome).inc()
    if channel == "logout":
        metrics.BACKCHANNEL_LOGOUTS.labels(outcome=outcome).inc()


def purge_old_messages(now: datetime | None = None) -> int:
    """Forget delivered and failed messages older than OUTBOX_KEEP_DAYS (flushes)."""
    cutoff = (now or utcnow()) - timedelta(days=int(current_app.config["OUTBOX_KEEP_DAYS"]))
    return db.session.execute(
        delete(OutboxMessage).where(OutboxMessage.status.in_(("sent", "failed")),
                                    OutboxMessage.created_at < cutoff),
        execution_options={"synchronize_session": False}).rowcount

