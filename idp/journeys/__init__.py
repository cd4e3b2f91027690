"""One package per user journey, each a blueprint (views -> service -> models)."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .home import views as home
    from .login import views as login
    from .wayf import views as wayf

    for module in (wayf, login, home):
        app.register_blueprint(module.bp)
