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


def run_gunicorn(workers: int, bind: str) -> None:
    # Validation at start-up knows how many processes share the configuration.
    os.environ["IDP_WORKERS"] = str(workers)
    from .. import create_app

    create_app()  # refuse a configuration that cannot work before forking
    _Gunicorn({"bind": bind, "workers": workers, "worker_class": "sync",
               "accesslog": None, "timeout": 30}).run()
