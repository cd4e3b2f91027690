"""`idp serve`: gunicorn with N worker processes sharing the database and the store.

Stock gunicorn workers, standard settings only:

- `--threads 1`: the sync worker, one request at a time per process: the pool of the
  servers' endpoints and the single sign-on (README "Two pools"), where no sign-in
  waits and a short request costs less CPU without the hand-over between threads.
- `--threads N` (default 2): gthread; while one thread waits on PostgreSQL or Redis
  another one runs. The app is thread-safe: scoped sessions and the embedded store are
  per thread.

How connections reach the workers: gthread accepts every connection it sees and keeps a
keep-alive connection for its whole life, so a few long-lived connections (an RP's HTTP
pool, a proxy's upstream pool) could all land on one worker while the other idled (seen:
the bench's 12 connections on one worker, half the rate). So a worker holds at most as
many connections as it has threads (`worker_connections`: when all its threads are busy
it stops accepting, and the kernel hands new connections to another worker), and closes
each connection after its response (`keepalive` 0: an idle connection never holds a
slot). In production nginx (or any proxy) sits in front, keeps the clients' connections
alive and opens a short one per request to the workers (no upstream `keepalive`).
bench/README.md has the measures behind these settings.

Operations (idp/ops/): gunicorn's error and access logs are JSON lines on stderr
(`GunicornLogger`); metrics are written per process in METRICS_DIR (prometheus-client's
multiprocess mode, switched on here before the workers fork) and a dead worker's live
gauges are dropped by the `child_exit` hook.

Lanes for the sign-in waiting room (security/admission.py): a password verification
holds its thread for ~150 ms, and a sign-in waiting for a slot holds one for up to
IDP_SIGNIN_WAIT_SECONDS; each process lets at most `Admission.lane_threads` of them
(SIGNIN_CONCURRENCY verifying + SIGNIN_WAITERS waiting) hold a thread, and answers the
others at once. So a gthread worker gets that many threads *on top of* `--threads`:
however many families sign in, `--threads` threads stay for requests that need no
password (SSO, token, JWKS, static files).
"""
from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication

from .. import create_app, metrics
from ..ops.logs import configure_logging

KEEPALIVE = 0  # seconds an idle connection is kept: none, see above


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app()


def _child_exit(server, worker) -> None:
    metrics.worker_exited(worker.pid)


def gunicorn_options(workers: int, bind: str, threads: int = 1, access_log: bool = True) -> dict:
    return {"bind": bind, "workers": workers, "timeout": 30,
            "accesslog": "-" if access_log else None, "errorlog": "-",
            "logger_class": "idp.ops.logs.GunicornLogger", "child_exit": _child_exit,
            "worker_class": "gthread" if threads > 1 else "sync", "threads": threads,
            "worker_connections": threads, "keepalive": KEEPALIVE,
            # Forwarded headers are the app's to read (IDP_TRUSTED_PROXIES): gunicorn's own
            # reading would trust X-Forwarded-Proto from 127.0.0.1 even with 0 proxies.
            "forwarded_allow_ips": ""}


def run_gunicorn(workers: int, bind: str, threads: int = 1, access_log: bool = True) -> None:
    # Validation at start-up knows how many processes share the configuration.
    os.environ["IDP_WORKERS"] = str(workers)
    app = create_app()  # refuse a configuration that cannot work before forking
    # Then (nothing changed in this process when the configuration is refused): JSON
    # logs, and metrics in files. Metric values are made at their first use in a worker,
    # after the fork, so switching prometheus-client's mode here is in time.
    settings = app.config
    configure_logging(settings["LOG_LEVEL"], bool(settings["LOG_JSON"]))
    metrics.enable_multiprocess(settings["METRICS_DIR"])
    metrics.clear_dead_files(settings["METRICS_DIR"])
    if threads > 1:  # gthread: the password lane's threads come on top (see above)
        threads += app.extensions["idp"]["admission"].lane_threads
    _Gunicorn(gunicorn_options(workers, bind, threads, access_log)).run()
