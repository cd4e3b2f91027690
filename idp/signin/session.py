"""The SSO session: opened at sign-in, read on every request, ended at logout.

It lives in the server-side session (security/sessions.py). The engine owns it, so
journeys and protocol adapters read the signed-in account through `current_account()`
and never reach into a journey. Ending a session tells every registered protocol adapter
(back-channel logout, the SAML front-channel chain) through `announce_end`.
"""
from __future__ import annotations

import secrets
import time

from flask import g, redirect, session

from ..audit import record
from ..db import db
from ..models import Account, AccountState
from .registry import adapters

# Session keys that survive sign-in (the rest is dropped with the old session id).
_KEPT_ACROSS_SIGNIN = ("pending_id", "pending_origin", "next", "locale")


def start_session(account: Account, method: str = "pwd") -> None:
    """Open the SSO session under a new id (no fixation), keeping the pending request."""
    kept = {k: session[k] for k in _KEPT_ACROSS_SIGNIN if k in session}
    session.clear()
    session.regenerate()
    session.update(kept)
    session.update({
        "account_id": account.id,
        "epoch": account.session_epoch,
        "auth_time": time.time(),  # float: compared with the pending request's creation
        "amr": [method],
        "sid": secrets.token_urlsafe(16),
        "rps": [],
    })
    g.pop("signin_ctx", None)
    g.current_account = account
    record("login", actor=account.identifier)


def current_acr() -> str:
    """How this session authenticated: "mfa" once the second factor was passed, else
    "pwd" (oidc.supported.ACR_VALUES)."""
    return "mfa" if "mfa" in (session.get("amr") or []) else "pwd"


def current_account() -> Account | None:
    """The signed-in account, or None; a session outlived by a password change,
    a "sign out everywhere" or a deactivation is ended here."""
    if "current_account" in g:
        return g.current_account
    account = None
    account_id = session.get("account_id")
    if account_id is not None:
        account = db.session.get(Account, account_id)
        if account is None or account.session_epoch != session.get("epoch") \
                or account.state == AccountState.deactivated:
            session.destroy()
            account = None
    g.current_account = account
    return account


def announce_end(snapshot: dict) -> None:
    """Tell every protocol adapter that the session `snapshot` (a session's data, this
    browser's or another one's) is ending, so each tells its relying parties."""
    for adapter in adapters():
        adapter.session_ended(snapshot)


def end_session() -> None:
    """Log out: notify every RP of the session, then forget the session entirely."""
    snapshot = dict(session)
    if snapshot.get("account_id"):
        announce_end(snapshot)
        account = g.get("current_account")
        record("logout", actor=account.identifier if account else str(snapshot["account_id"]))
    session.destroy()
    g.current_account = None
    g.pop("signin_ctx", None)


def after_logout(url: str):
    """The answer once `end_session()` ran: the first adapter that still has relying
    parties to visit in the browser (SAML front-channel logout) goes first, then `url`,
    through the upstream provider's logout when the session came from one."""
    for adapter in adapters():
        url = adapter.logout_target(url)
    for adapter in adapters():
        response = adapter.front_channel_logout(url)
        if response is not None:
            return response
    return redirect(url)


def note_relying_party(protocol: str, client_id: str) -> None:
    """Remember that this SSO session signed in to an RP (for logout)."""
    rps = session.get("rps", [])
    entry = {"protocol": protocol, "client_id": client_id}
    if entry not in rps:
        session["rps"] = rps + [entry]
