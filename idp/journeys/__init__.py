"""One package per user journey, each a blueprint (views -> service -> models)."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .home import views as home
    from .login import views as login
    from .wayf import views as wayf
    from .activation import views as activation
    from .charter import views as charter
    from .preferences import views as preferences
    from .notice import views as notice
    from .consent import views as consent

    for module in (wayf, login, home, activation, charter, preferences, notice, consent):
        app.register_blueprint(module.bp)
    from .signup import views as signup  # J4 "Je n'ai pas de compte"

    app.register_blueprint(signup.bp)
    # J6 recovery (signed out), "Mon compte" and the optional second factor.
    from .recovery import views as recovery
    from .account import views as account
    from .second_factor import views as second_factor

    for module in (recovery, account, second_factor):
        app.register_blueprint(module.bp)
