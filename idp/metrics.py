"""Prometheus metrics: named metric objects every module may import and count on.

Served at `/metrics` (idp/ops/views.py) in the Prometheus text format, through
prometheus-client (the reference client: its multiprocess mode is what gunicorn needs).

Multiprocess mode: `idp serve` runs N gunicorn workers and `idp worker` runs beside them;
each process writes its values to memory-mapped files in METRICS_DIR (IDP_METRICS_DIR,
`enable_multiprocess()`), and a scrape of `/metrics` on any worker adds up the files of
every process (`collect()`). gunicorn's `child_exit` hook calls `worker_exited(pid)`
(prometheus_client's `mark_process_dead`: a dead worker's live gauges are dropped; its
counters stay in the totals). Without METRICS_DIR (tests, `flask run`) the values live
in this process. A one-shot `idp worker --once` (cron) writes to the same directory
under a slot instead of its pid (`enable_one_shot`), so its counts reach /metrics too.

How to add a metric
-------------------
1. Declare it here, at module level, with the helpers below (`counter`, `histogram`,
   `gauge`), named `idp_<what>` (counters end in `_total`, durations in `_seconds`),
   with a short help text and bounded label values (an outcome, a grant type, an endpoint
   name: never an identifier, an address or anything a client chooses freely):

       ADMISSIONS_REFUSED = counter("idp_admissions_refused_total",
                                    "Visitors turned away by the waiting room", ["reason"])

2. Count where it happens: `from idp import metrics` then
   `metrics.ADMISSIONS_REFUSED.labels(reason="full").inc()`.
   A gauge names how the processes' values add up (`multiprocess_mode`: "livesum" for
   a level every worker holds part of, "max", "mostrecent"...); a level read from the
   database or the store belongs in a scrape-time collector instead (see
   idp/ops/collectors.py, the outbox backlog), registered in `register_collector`.
3. Say what it means in README "En production" (Metrics) if an operator should watch it.
"""
from __future__ import annotations

import fcntl
import glob
import itertools
import os

from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter,
                               Gauge, Histogram, generate_latest, values)
from prometheus_client import multiprocess

_DECLARED: list = []  # every metric made by the helpers (enable_multiprocess re-binds them)
_COLLECTORS: list = []  # scrape-time collectors: callables(app) -> Collector
_SLOT_LOCKS: list = []  # a one-shot run's slot, held until the process exits


def counter(name: str, documentation: str, labelnames=()) -> Counter:
    metric = Counter(name, documentation, labelnames)
    _DECLARED.append(metric)
    return metric


def histogram(name: str, documentation: str, labelnames=(), buckets=None) -> Histogram:
    options = {"buckets": buckets} if buckets else {}
    metric = Histogram(name, documentation, labelnames, **options)
    _DECLARED.append(metric)
    return metric


def gauge(name: str, documentation: str, labelnames=(), multiprocess_mode="livesum") -> Gauge:
    metric = Gauge(name, documentation, labelnames, multiprocess_mode=multiprocess_mode)
    _DECLARED.append(metric)
    return metric


# --- The IdP's metrics ---------------------------------------------------------------
SIGNINS = counter("idp_signins_total", "Sign-in attempts (password) by outcome: "
                  "ok, failed, throttled, deactivated", ["outcome"])
THROTTLED = counter("idp_throttled_total", "Attempts refused by a throttle, by what was "
                    "throttled (signin, ...)", ["what"])
TOKENS_ISSUED = counter("idp_tokens_issued_total", "Token responses of the OIDC token "
                        "endpoint by grant type", ["grant"])
SAML_RESPONSES = counter("idp_saml_responses_total", "SAML responses sent, by outcome "
                         "(success, denied, passive, ...)", ["outcome"])
BACKCHANNEL_LOGOUTS = counter("idp_backchannel_logouts_total", "Back-channel logout "
                              "notices by outcome: sent, retried, failed", ["outcome"])
OUTBOX_DELIVERIES = counter("idp_outbox_deliveries_total", "Outbox delivery attempts by "
                            "channel (email, sms, logout) and outcome: sent, retried, "
                            "failed", ["channel", "outcome"])
REQUEST_SECONDS = histogram("idp_request_duration_seconds", "Time to answer a request, "
                            "by Flask endpoint", ["endpoint"],
                            buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


# --- Multiprocess mode ---------------------------------------------------------------
def enable_multiprocess(directory: str, process_identifier=None) -> None:
    """Write this process's values to `directory` (before it forks workers), in files
    named for its pid, or for `process_identifier()` when given (enable_one_shot).

    prometheus-client picks its value class when first imported, from
    PROMETHEUS_MULTIPROC_DIR; `idp` is imported before `idp serve` reads its settings, so
    the class is switched here and the metrics already declared are bound again (only
    unlabelled ones hold a value before their first `labels()`)."""
    _check_writable(directory)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    if process_identifier is not None:
        values.ValueClass = values.MultiProcessValue(process_identifier)
    elif not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()
    for metric in _DECLARED:
        if not metric._labelnames:  # noqa: SLF001 - re-create its value in the files
            metric._metric_init()


def enable_one_shot(directory: str) -> str:
    """Multiprocess mode for a run that does one pass and exits (`idp worker --once`,
    from cron). Files named for its pid would stay until the next start of `idp serve`
    or `idp worker` (clear_dead_files), one set per run. It writes instead to the files
    of a slot, "once-0" (or "once-1"... while other one-shot runs hold the first ones:
    a lock file each, held until the process exits): a run counts on from the totals
    its slot's earlier runs left, so /metrics adds up every one-shot run, in counters
    that only grow. Returns the slot."""
    _check_writable(directory)
    for n in itertools.count():
        lock = open(os.path.join(directory, f"once-{n}.lock"), "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another one-shot run writes this slot's files now
            lock.close()
            continue
        _SLOT_LOCKS.append(lock)
        slot = f"once-{n}"  # no "_": prometheus-client splits file names on it
        enable_multiprocess(directory, lambda: slot)
        return slot


def _check_writable(directory: str) -> None:
    try:
        os.makedirs(directory, exist_ok=True)
        probe = os.path.join(directory, f".write-test-{os.getpid()}")
        open(probe, "w").close()
        os.remove(probe)
    except OSError as exc:  # one line at start-up (idp serve, idp worker), not a traceback
        raise RuntimeError(f"METRICS_DIR {directory} is not writable: {exc.strerror}") from exc


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def clear_dead_files(directory: str) -> None:
    """Remove the files of processes no longer running (a restart of `idp serve` or
    `idp worker`), keeping those of live ones (the worker beside the web, say) and the
    one-shot runs' slots (no pid in their names: their totals go on growing)."""
    for path in glob.glob(os.path.join(directory, "*.db")):
        try:
            pid = int(os.path.basename(path).rsplit("_", 1)[1][:-3])
        except (IndexError, ValueError):
            continue
        if not _alive(pid):
            _remove(path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit hook: drop the dead worker's live gauges."""
    directory = multiprocess_dir()
    if directory:
        multiprocess.mark_process_dead(pid, directory)


# --- Exposition ----------------------------------------------------------------------
def register_collector(factory) -> None:
    """`factory(app)` returns a prometheus Collector run at every scrape (reads the
    database or the store at scrape time)."""
    _COLLECTORS.append(factory)


class _TolerantMultiProcessCollector:
    """MultiProcessCollector whose scrape survives a worker restart: a file removed
    between listing and reading (mark_process_dead, clear_dead_files) is skipped."""

    def __init__(self, directory: str):
        self.directory = directory

    def collect(self):
        files = glob.glob(os.path.join(self.directory, "*.db"))
        for _ in range(5):
            present = [f for f in files if os.path.exists(f)]
            try:
                return multiprocess.MultiProcessCollector.merge(present, accumulate=True)
            except FileNotFoundError:
                files = glob.glob(os.path.join(self.directory, "*.db"))
        return []


def exposition(app) -> tuple[bytes, str]:
    """The text served at /metrics: every process's values plus the scrape-time ones."""
    directory = multiprocess_dir()
    if directory:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_TolerantMultiProcessCollector(directory))
    else:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Forward(REGISTRY))
    for factory in _COLLECTORS:
        registry.register(factory(app))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Forward:
    """This process's own registry (single-process mode), under a per-scrape registry."""

    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()
