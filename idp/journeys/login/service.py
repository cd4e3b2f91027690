"""J2 sign-in: credentials, throttling, the SSO session, logout.

The answer to a wrong identifier, a wrong password and a throttled account is the same,
and costs the same time (a dummy argon2 verify when there is no account, or while a delay
runs). The deactivated-account message is given only with the right password, so it
reveals nothing to a stranger.
"""
from __future__ import annotations

import enum
import secrets
import time
from typing import Callable

from flask import g, request, session
from sqlalchemy import select

from ...audit import record
from ...db import db
from ...extensions import passwords, throttle
from ...models import Account, AccountState
from ...roster.credentials import provisional_password_matches

# Session keys that survive sign-in (the rest is dropped with the old session id).
_KEPT_ACROSS_SIGNIN = ("pending_id", "pending_origin", "next", "locale")


class LoginOutcome(enum.Enum):
    ok = "ok"
    failed = "failed"
    deactivated = "deactivated"


def find_account(identifier: str) -> Account | None:
    return db.session.scalar(select(Account).where(Account.identifier == identifier))


def normalise_identifier(identifier: str) -> str:
    return identifier.strip().lower()


def authenticate(identifier: str, password: str) -> tuple[LoginOutcome, Account | None]:
    """Check credentials under the brute-force throttle; record the outcome."""
    identifier = normalise_identifier(identifier)
    ip = request.remote_addr or "-"
    guard = throttle()
    if guard.is_blocked(ip, identifier):
        passwords().verify(None, password)  # same cost as a real check
        guard.record_failure(ip, identifier)  # trying on during a delay makes it grow
        record("login_throttled", target=identifier)
        return LoginOutcome.failed, None
    account = find_account(identifier)
    if not passwords().verify(account.password_hash if account else None, password) \
            and not provisional_password_matches(account, password):
        guard.record_failure(ip, identifier)
        record("login_failed", target=identifier)
        return LoginOutcome.failed, None
    guard.clear_success(ip, identifier)
    if account.state == AccountState.deactivated:
        record("login_refused_deactivated", actor=account.identifier)
        return LoginOutcome.deactivated, account
    if passwords().needs_rehash(account.password_hash):
        account.password_hash = passwords().hash(password)
    return LoginOutcome.ok, account


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


# Protocol adapters register here to tell their relying parties (back-channel logout).
LOGOUT_LISTENERS: list[Callable[[dict], None]] = []


def end_session() -> None:
    """Log out: notify every RP of the session, then forget the session entirely."""
    snapshot = dict(session)
    if snapshot.get("account_id"):
        for listener in LOGOUT_LISTENERS:
            listener(snapshot)
        account = g.get("current_account")
        record("logout", actor=account.identifier if account else str(snapshot["account_id"]))
    session.destroy()
    g.current_account = None
    g.pop("signin_ctx", None)


def note_relying_party(protocol: str, client_id: str) -> None:
    """Remember that this SSO session signed in to an RP (for logout)."""
    rps = session.get("rps", [])
    entry = {"protocol": protocol, "client_id": client_id}
    if entry not in rps:
        session["rps"] = rps + [entry]
