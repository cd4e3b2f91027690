"""The administration console at /admin (blueprint "admin"): staff sign-in with TOTP,
relying parties, signing keys, charters, the audit trail, school support.

Thin views over the services of idp/admin/ and idp/roster/; each module holds one area.
The family sign-in gate lets the blueprint through: the console has its own guard
(guard.check_request), run before every console view.
"""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_app(app: Flask) -> None:
    from ...signin.gate import allow_blueprint
    from . import (accounts, audit, auth, charters, clients, guard, home,  # noqa: F401
                   keys, saml_sps, schools)

    bp.before_request(guard.check_request)
    app.register_blueprint(bp)
    allow_blueprint("admin")
