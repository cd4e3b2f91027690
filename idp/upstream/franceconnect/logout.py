"""Signing out of the IdP also signs out of FranceConnect when the session came from it
(FranceConnect's partner rules make `session/end` mandatory for a service provider).

A ProtocolAdapter for its logout hooks only (no relying party request ever has the
protocol "franceconnect"): `session_ended` notes the ID token FranceConnect gave this
browser's session, `logout_target` sends the end of the logout through FranceConnect's
session/end, with `id_token_hint`, a single-use `state` and our post-logout URI, which
then goes on to where the logout was meant to end.
"""
from __future__ import annotations

import logging
import secrets

from flask import current_app, g, has_request_context, session, url_for

from ...extensions import store
from ...signin.adapter import ProtocolAdapter
from . import client

log = logging.getLogger(__name__)
SESSION_KEY = "franceconnect"   # in the SSO session: {"id_token": ...}
LOGOUT_SECONDS = 600
_PREFIX = "fc:logout:"


class FranceConnectLogout(ProtocolAdapter):
    protocol = "franceconnect"

    def session_ended(self, snapshot: dict) -> None:
        # Only this browser's own session: "sign out everywhere" also announces others
        # (and a new letter from the CLI, outside any request, only others).
        if has_request_context() and snapshot.get("sid") \
                and snapshot.get("sid") == session.get("sid"):
            g.franceconnect_logout = snapshot.get(SESSION_KEY)

    def logout_target(self, url: str) -> str:
        noted = g.pop("franceconnect_logout", None)
        if not noted or not noted.get("id_token"):
            return url
        state = secrets.token_urlsafe(32)
        back = current_app.config["BASE_URL"] + url_for("franceconnect.logged_out")
        try:
            target = client.logout_url(noted["id_token"], back, state)
        except client.Unavailable as exc:  # FranceConnect down: our session is over anyway
            log.info("FranceConnect logout skipped: %s", exc)
            return url
        store().set(_PREFIX + state, {"url": url}, LOGOUT_SECONDS)
        return target


def take_logout(state: str | None) -> str | None:
    """Where the logout goes after FranceConnect's session/end (single use)."""
    if not state or len(state) > 128:
        return None
    data = store().take(_PREFIX + state)
    return data.get("url") if data else None
