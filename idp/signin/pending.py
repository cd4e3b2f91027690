"""PendingAuthorization: what a relying party asked for, kept server-side while the
browser goes through the sign-in steps.

It is plain data (no pickled objects): stored as JSON in the store under a random key
with a TTL, and referenced from the browser's session only, so a step submitted from
another browser cannot reach it.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field

from flask import current_app, render_template, session

from ..extensions import store

SESSION_KEY = "pending_id"
ORIGIN_KEY = "pending_origin"


def expired_page():
    """The answer when this browser's pending request is gone (expired, answered, never
    ours), or any other stored continuation of a protocol request (SAML logout): 400."""
    return render_template("errors/expired.html"), 400


@dataclass
class PendingAuthorization:
    protocol: str                      # its ProtocolAdapter: "oidc", "saml"
    client_id: str                     # OIDC client_id or SAML entity id
    client_name: str
    params: dict                       # the protocol request, to rebuild it at fulfil
    force_login: bool = False          # prompt=login / ForceAuthn
    max_age: int | None = None
    passive: bool = False              # prompt=none / IsPassive
    login_hint: str | None = None
    ui_locales: str | None = None
    profile_hint: str | None = None    # WAYF hints from the RP
    academy_hint: str | None = None
    requested: list = field(default_factory=list)  # scopes or attribute names
    # The authentication level the RP requires: "mfa" (OIDC acr_values or an essential
    # acr claim) makes the second_factor step needed; None: the password is enough.
    acr: str | None = None
    # Origin of the verified return target (redirect URI, ACS): the CSP form-action of
    # the step pages must allow it, since browsers apply form-action to the redirects
    # that follow a form POST (sign-in -> /continue -> fulfil -> the RP).
    return_origin: str | None = None
    # prompt=consent: the consent page is shown even when consent is remembered; cleared
    # once the family answered it for this request.
    force_consent: bool = False
    id: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    created: float = field(default_factory=time.time)

    def ttl(self) -> int:
        return int(current_app.config["PENDING_AUTHORIZATION_MINUTES"]) * 60

    def save(self) -> "PendingAuthorization":
        """Store it and bind it to this browser's session."""
        store().set("pending:" + self.id, asdict(self), self.ttl())
        session[SESSION_KEY] = self.id
        session[ORIGIN_KEY] = self.return_origin
        return self

    @classmethod
    def current(cls) -> "PendingAuthorization | None":
        """The pending request of this browser, or None (never one from elsewhere)."""
        pid = session.get(SESSION_KEY)
        if not pid:
            return None
        data = store().get("pending:" + pid)
        if data is None:
            return None
        # Only known fields: a request saved by an older release still loads.
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @classmethod
    def had_expired(cls) -> bool:
        """True when this browser had a pending request that is no longer stored."""
        return bool(session.get(SESSION_KEY)) and cls.current() is None

    def finish(self) -> None:
        """Forget it: it has been fulfilled or refused (single use). One never saved
        (answered in the request that made it) has nothing stored to delete."""
        if session.get(SESSION_KEY) == self.id:
            store().delete("pending:" + self.id)
            session.pop(SESSION_KEY, None)
            session.pop(ORIGIN_KEY, None)
