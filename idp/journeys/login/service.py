"""J2 sign-in: credentials and throttling (the SSO session itself is signin/session.py).

The answer to a wrong identifier and a wrong password is the same, and costs the same
time (a dummy argon2 verify when there is no account, or while a delay runs). A throttled
sign-in says so, with the wait: the counters are keyed on what was typed, so the message
is the same for an identifier that exists and one that does not. A try during the delay
checks no password and does not lengthen it. The deactivated-account message is given
only with the right password, so it reveals nothing to a stranger.

A browser with a device cookie for the account typed (security/device_cookies.py) is not
stopped by the per-IP, per-account or (IP, account) counters, and its failures count
against its device cookie only (security/throttle.py); every other browser is an
untrusted device. A successful sign-in gives the browser its device cookie.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select

from ... import metrics
from ...audit import record
from ...db import db
from ...extensions import passwords, throttle
from ...models import Account, AccountState
from ...roster.credentials import provisional_password_matches
from ...security import device_cookies
from ...security.client_address import client_key

class LoginOutcome(enum.StrEnum):
    ok = "ok"
    failed = "failed"
    throttled = "throttled"  # too many failures: SignIn.pause says which delay, how long
    deactivated = "deactivated"


@dataclass(frozen=True)
class Pause:
    """The delay `authenticate` found in force: `scope` "ip" when only the browser's
    address is slowed (the page then names no identifier), "account" when the
    identifier's counters run; `seconds` left. The page words this one read (a second
    read could find the delay over: no scope, and a slowed address worded as a paused
    identifier)."""
    seconds: int
    scope: str


@dataclass(frozen=True)
class SignIn:
    """What `authenticate` found: the account for ok and deactivated, the pause (only)
    for throttled."""
    outcome: LoginOutcome
    account: Account | None = None
    pause: Pause | None = None


def find_account(identifier: str) -> Account | None:
    return db.session.scalar(select(Account).where(Account.identifier == identifier))


def normalise_identifier(identifier: str) -> str:
    return identifier.strip().lower()


def authenticate(identifier: str, password: str) -> SignIn:
    """Check credentials under the brute-force throttle; record the outcome. A throttled
    try carries the pause it met, read once."""
    identifier = normalise_identifier(identifier)
    ip = client_key()
    guard = throttle()
    account = find_account(identifier)
    device = device_cookies.device_for(account)  # None: an untrusted device
    seconds, scope = guard.pause(ip, identifier, device)
    if seconds > 0:
        passwords().verify(None, password)  # same cost as a real check
        record("login_throttled", target=identifier, scope=scope)
        metrics.SIGNINS.labels(outcome="throttled").inc()
        metrics.THROTTLED.labels(what="signin").inc()
        return SignIn(LoginOutcome.throttled, pause=Pause(seconds, scope))
    if not passwords().verify(account.password_hash if account else None, password) \
            and not provisional_password_matches(account, password):
        guard.record_failure(ip, identifier, device)
        record("login_failed", target=identifier)
        metrics.SIGNINS.labels(outcome="failed").inc()
        return SignIn(LoginOutcome.failed)
    guard.clear_success(ip, identifier, device)
    if account.state == AccountState.deactivated:
        record("login_refused_deactivated", actor=account.identifier)
        metrics.SIGNINS.labels(outcome="deactivated").inc()
        return SignIn(LoginOutcome.deactivated, account)
    if passwords().needs_rehash(account.password_hash):
        account.password_hash = passwords().hash(password)
    metrics.SIGNINS.labels(outcome="ok").inc()
    return SignIn(LoginOutcome.ok, account)
