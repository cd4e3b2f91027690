"""The waiting room's metrics (security/admission.py), in Prometheus's format.

Declared through the operations registry (`idp.metrics`, issue 16: multiprocess files
under gunicorn, served at /metrics) when it is there, else as plain prometheus-client
metrics of this process, so the module imports either way. Beside these per-process
counts, `Admission` keeps cluster-wide hourly counts in the store for the console's home
(admission_stats.py), and the queue's length is read from the store at scrape
time (`QueueCollector`).
"""
from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

try:  # issue 16's registry: counted in every worker, added up at /metrics
    from .. import metrics as _ops
except ImportError:  # pragma: no cover - the operations module is not there
    _ops = None

_WAIT_BUCKETS = (.005, .01, .05, .1, .25, .5, 1, 1.5, 2, 3, 5)

if _ops is not None:
    ADMITTED = _ops.counter("idp_signin_admitted_total", "Password verifications let in "
                            "by the sign-in waiting room")
    TURNED_AWAY = _ops.counter("idp_signin_turned_away_total", "Sign-ins answered with "
                               "the 503 waiting page, by reason: wait_over (no slot "
                               "within the wait), behind (not yet at the front of the "
                               "queue), lane_full (enough threads waiting), "
                               "address_share (one address holds its share of the "
                               "queue), full (the bounded queue had no room)", ["reason"])
    WAIT_SECONDS = _ops.histogram("idp_signin_wait_seconds", "Time a sign-in waited in "
                                  "the server for a verification slot (admitted ones)",
                                  buckets=_WAIT_BUCKETS)
    WAITING = _ops.gauge("idp_signin_waiting_threads", "Threads waiting for a "
                         "verification slot now", multiprocess_mode="livesum")
else:
    ADMITTED = Counter("idp_signin_admitted_total", "Password verifications let in")
    TURNED_AWAY = Counter("idp_signin_turned_away_total", "Sign-ins answered with the "
                          "waiting page", ["reason"])
    WAIT_SECONDS = Histogram("idp_signin_wait_seconds", "Wait for a verification slot",
                             buckets=_WAIT_BUCKETS)
    WAITING = Gauge("idp_signin_waiting_threads", "Threads waiting for a slot")


def admitted(waited: float) -> None:
    ADMITTED.inc()
    WAIT_SECONDS.observe(waited)


def turned_away(reason: str) -> None:
    TURNED_AWAY.labels(reason=reason).inc()


def waiting(delta: int) -> None:
    WAITING.inc(delta)


class QueueCollector:
    """idp_signin_queue_length: tickets in the waiting room (all nodes), read from the
    store at scrape time; idp_signin_queue_up 0 when the store did not answer."""

    def __init__(self, app):
        self.app = app

    def describe(self):
        return []

    def collect(self):
        length = GaugeMetricFamily("idp_signin_queue_length", "Families waiting for a "
                                   "sign-in slot (every node: the queue in the store)")
        up = GaugeMetricFamily("idp_signin_queue_up", "1 when the queue could be read")
        try:
            admission = self.app.extensions["idp"]["admission"]
            length.add_metric([], admission.queue_length())
            up.add_metric([], 1)
            yield length
        except Exception as exc:  # noqa: BLE001 - a scrape never fails for the store
            log.warning("queue length not read: %s", exc)
            up.add_metric([], 0)
        yield up


if _ops is not None and hasattr(_ops, "register_collector"):
    _ops.register_collector(QueueCollector)
