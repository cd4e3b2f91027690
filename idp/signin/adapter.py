"""The ProtocolAdapter contract: what the sign-in engine asks of a protocol.

A protocol (OpenID Connect, SAML 2.0, later an upstream provider such as FranceConnect)
is one adapter registered on the app with `register_adapter`. The engine never names an
endpoint or imports a protocol package: it looks the adapter up by the pending request's
`protocol` and calls these methods.

The adapter's endpoints receive a request and call `engine.begin(protocol, source)`:
the adapter's `begin` validates it (client, redirect URI or ACS, PKCE, signature) before
anything else and turns it into a PendingAuthorization; everything after that goes
through this contract too.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from ..models import Account
from .pending import PendingAuthorization
from .plan import Step


class RequestRefused(Exception):
    """`begin` cannot accept the request: `response` is the protocol's own answer (an
    error page, or an error sent to a verified return target)."""

    def __init__(self, response):
        super().__init__("request refused")
        self.response = response


class ProtocolAdapter:
    """Base class: override what the protocol does; the defaults do nothing."""

    protocol: str = ""  # the PendingAuthorization.protocol this adapter answers

    def begin(self, source: Any, account: Account | None) \
            -> tuple[PendingAuthorization, Any]:
        """Validate the incoming request (`source`: what the endpoint parsed, or None for
        the current request) into (pending request, what was validated, kept for an
        answer in this same request). Raises RequestRefused."""
        raise NotImplementedError

    def fulfil(self, pending: PendingAuthorization, account: Account,
               validated: Any = None):
        """Every step is done: answer the relying party (an OIDC code, a SAML response).
        `validated` is what `begin` already checked in this same request, if anything."""
        raise NotImplementedError

    def deny(self, pending: PendingAuthorization, account: Account | None):
        """The family refused (consent): the protocol's refusal to the verified target."""
        raise NotImplementedError

    def passive_error(self, pending: PendingAuthorization, step: Step,
                      validated: Any = None):
        """The request forbade interaction (prompt=none, IsPassive) but `step` is due."""
        raise NotImplementedError

    def revoke(self, account: Account, client_id: str | None = None) -> None:
        """Withdraw what the relying party `client_id` (every one when None) holds for
        the account: refresh tokens and the like."""

    def session_ended(self, snapshot: dict) -> None:
        """A session (its data) is ending: tell this protocol's relying parties that
        can be told without the browser (back channel), or note what the browser must
        visit (front channel)."""

    def logout_target(self, url: str) -> str:
        """After `end_session()`: where the logout ends, given that it would end at `url`.
        An upstream identity provider whose session must end too (FranceConnect's
        session/end) returns its own logout URL, which comes back to `url`."""
        return url

    def front_channel_logout(self, url: str):
        """After `end_session()` in this request: a response taking the browser to the
        relying parties that need it, ending at `url`; None when there are none."""
        return None


def register_adapter(app: Flask, adapter: ProtocolAdapter) -> None:
    """Make `adapter` answer its protocol on `app` (lookups: registry.py)."""
    app.extensions["idp"].setdefault("adapters", {})[adapter.protocol] = adapter
