"""FranceConnect as an upstream identity provider (issue 19): the OIDC client
(client.py) and the logout hook (logout.py). The journey that signs families in with it
is journeys/franceconnect/."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from ...signin.adapter import register_adapter
from .client import Identity, Refused, Unavailable, enabled
from .logout import FranceConnectLogout

__all__ = ["Identity", "Refused", "Unavailable", "enabled", "init_app"]


def init_app(app: Flask) -> None:
    register_adapter(app, FranceConnectLogout())
    if app.config.get("FRANCECONNECT_ENABLED") and app.config.get("FRANCECONNECT_DISCOVERY_URL"):
        parts = urlsplit(app.config["FRANCECONNECT_DISCOVERY_URL"])
        app.config["CSP_FORM_ACTION_UPSTREAM"] = f"{parts.scheme}://{parts.netloc}"
