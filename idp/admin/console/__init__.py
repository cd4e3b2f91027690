"""The administration console at /admin (blueprint "admin"): staff sign-in with TOTP,
relying parties, signing keys, charters, the audit trail, school support.

Thin views over the services of idp/admin/ and idp/roster/; each module holds one area.
The family sign-in gate lets the blueprint through: the console has its own guard
(guard.check_request), run before every console view.
"""
from __future__ import annotations

from flask import Flask

from ...signin.gate import allow_blueprint
from . import (accounts, audit, auth, campaigns, charters, clients,  # noqa: F401 (views)
               dashboard, home, keys, saml_sps, schools)
from .blueprint import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    allow_blueprint("admin")
