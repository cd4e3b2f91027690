"""`idp worker`: the loop that drains the outbox (notify/delivery.py) and, every
WORKER_LIFECYCLE_MINUTES, runs the lifecycle pass (lifecycle.py).

It sits above both: notify/ stays a library that queues and delivers messages, and the
lifecycle queues its reminders through it, so neither imports the other's caller.
"""
from __future__ import annotations

import logging
import time

from .db import db
from .lifecycle import run_lifecycle
from .notify.delivery import deliver_due

log = logging.getLogger(__name__)


def run_forever(poll_seconds: float, lifecycle_minutes: float, echo=print) -> None:
    """The worker loop: deliver, sleep, and every `lifecycle_minutes` run the lifecycle."""
    next_lifecycle = time.monotonic()
    while True:
        try:
            report = deliver_due()
            if report.sent or report.retried or report.failed:
                echo(f"outbox: {report.sent} sent, {report.retried} to retry, "
                     f"{report.failed} failed")
            if lifecycle_minutes > 0 and time.monotonic() >= next_lifecycle:
                summary = run_lifecycle()
                db.session.commit()
                next_lifecycle = time.monotonic() + lifecycle_minutes * 60
                if any(summary.get(k) for k in ("reminded", "deactivated", "deleted")):
                    echo(f"lifecycle: {summary}")
        except Exception:  # a database hiccup must not stop the worker
            db.session.rollback()
            log.exception("worker pass failed")
        finally:
            db.session.remove()
        time.sleep(poll_seconds)
