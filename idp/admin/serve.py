"""`idp serve`: gunicorn with N worker processes sharing the database and the store."""
from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication


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


def run_gunicorn(workers: int, bind: str, threads: int = 1) -> None:
    # Validation at start-up knows how many processes share the configuration.
    os.environ["IDP_WORKERS"] = str(workers)
    from .. import create_app

    create_app()  # refuse a configuration that cannot work before forking
    # gthread: while one thread waits on PostgreSQL or Redis another one runs, and the
    # connections of RPs (token, userinfo) and browsers are kept alive between requests;
    # balanced_worker.py spreads those connections over the workers.
    # The app is thread-safe: scoped sessions and the embedded store are per thread.
    _Gunicorn({"bind": bind, "workers": workers, "timeout": 30, "accesslog": None,
               "worker_class": "idp.admin.balanced_worker.BalancedThreadWorker"
               if threads > 1 else "sync",
               "threads": threads, "keepalive": 5}).run()
