"""One package per user journey, each a blueprint (views -> service -> models).

Importing a journey's views registers its step on the sign-in plan (signin/plan.py)."""
from __future__ import annotations

from flask import Flask

from .account import views as account
from .activation import views as activation
from .charter import views as charter
from .consent import views as consent
from .franceconnect import views as franceconnect
from .family import views as family
from .home import views as home
from .login import views as login
from .new_device import views as new_device
from .notice import views as notice
from .password_change import views as password_change
from .preferences import views as preferences
from .recovery import views as recovery
from .second_factor import views as second_factor
from .signup import views as signup
from .waiting import hooks as waiting_hooks
from .waiting import views as waiting
from .wayf import views as wayf

# J2 sign-in and the J5 steps, J4 "Je n'ai pas de compte", J6 recovery (signed out),
# "Mon compte" and the optional second factor.
BLUEPRINTS = (wayf, login, home, activation, charter, preferences, notice, consent, signup,
              recovery, account, second_factor, family, franceconnect, password_change,
              new_device, waiting)


def register(app: Flask) -> None:
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    waiting_hooks.init_app(app)  # the sign-in form's requests through the waiting room
