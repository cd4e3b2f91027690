"""`idp serve`: gunicorn with N worker processes sharing the database and the store.

Stock gunicorn workers, standard settings only:

- `--threads 1`: the sync worker, one request at a time per process.
- `--threads N` (default 2): gthread; while one thread waits on PostgreSQL or Redis
  another one runs. The app is thread-safe: scoped sessions and the embedded store are
  per thread.

Keep-alive (KEEPALIVE seconds): a worker keeps each connection it accepted for the
connection's whole life, so a few long-lived connections (an RP's HTTP pool, a proxy's
upstream pool) can all land on one worker while the other idles. In production the IdP
runs behind a reverse proxy (TLS) that opens a short connection per request to the
workers (nginx's default: no upstream `keepalive`), and the kernel spreads those over
the workers; clients keep their own connections alive to the proxy. See bench/README.md
for the measures behind this choice.
"""
from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication

KEEPALIVE = 5  # seconds a connection may stay idle between requests (gthread only)


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import _wsgi_app

        return _wsgi_app()


def gunicorn_options(workers: int, bind: str, threads: int = 1) -> dict:
    return {"bind": bind, "workers": workers, "timeout": 30, "accesslog": None,
            "worker_class": "gthread" if threads > 1 else "sync", "threads": threads,
            "keepalive": KEEPALIVE}


def run_gunicorn(workers: int, bind: str, threads: int = 1) -> None:
    # Validation at start-up knows how many processes share the configuration.
    os.environ["IDP_WORKERS"] = str(workers)
    from .. import create_app

    create_app()  # refuse a configuration that cannot work before forking
    _Gunicorn(gunicorn_options(workers, bind, threads)).run()
