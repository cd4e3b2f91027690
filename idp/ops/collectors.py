"""Scrape-time collectors: levels read from the database when /metrics is scraped (one
query per scrape), so every process, and a scrape of any worker, gives the same value."""
from __future__ import annotations

import logging
from datetime import timezone

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from ..db import db
from ..models import OutboxMessage, utcnow

log = logging.getLogger(__name__)


class OutboxCollector:
    """idp_outbox_backlog{channel}: messages not yet delivered (pending);
    idp_outbox_oldest_undelivered_seconds: the age of the oldest of them (0: none)."""

    def __init__(self, app):
        self.app = app

    def describe(self):
        return []

    def collect(self):
        backlog = GaugeMetricFamily("idp_outbox_backlog", "Outbox messages waiting for "
                                    "delivery (pending), by channel", labels=["channel"])
        oldest = GaugeMetricFamily("idp_outbox_oldest_undelivered_seconds", "Age of the "
                                   "oldest outbox message waiting for delivery (0: none)")
        up = GaugeMetricFamily("idp_outbox_collector_up", "1 when the outbox could be "
                               "read at this scrape, 0 when the database did not answer")
        try:
            with self.app.app_context(), db.engine.connect() as conn:
                rows = conn.execute(
                    select(OutboxMessage.channel, func.count(), func.min(OutboxMessage.created_at))
                    .where(OutboxMessage.status == "pending")
                    .group_by(OutboxMessage.channel)).all()
        except Exception as exc:  # noqa: BLE001 - a scrape never fails for the database
            log.warning("outbox metrics not read: %s", str(exc).splitlines()[0] if str(exc) else exc)
            up.add_metric([], 0)
            yield up
            return
        now = utcnow()
        first = None
        for channel, count, created in rows:
            if created is not None and created.tzinfo is None:  # SQLite: naive UTC
                created = created.replace(tzinfo=timezone.utc)
            backlog.add_metric([channel], count)
            first = created if first is None or created < first else first
        oldest.add_metric([], max((now - first).total_seconds(), 0.0) if first else 0.0)
        up.add_metric([], 1)
        yield backlog
        yield oldest
        yield up
