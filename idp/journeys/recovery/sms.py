""""Mot de passe oublié ?" by SMS: a code to the account's registered mobile, typed back
in the same browser, then a new password.

The transaction lives in the browser's session (identifier, account id or None, a random
transaction id bound into the code). An identifier that names no active account with a
mobile gets exactly the same pages: its sends go through sms_codes.withhold_code with the
identifier standing in for the number, so they meet the very limits and answers of a real
send (the wait before "Renvoyer le SMS", the daily cap, the pace per IP, the daily budget);
the three tries are imitated in the session, and every code typed is wrong.
"""
from __future__ import annotations

import secrets
import time

from flask import current_app, session

from ...audit import record
from ...db import db
from ...models import Account
from ...security.mobile_numbers import is_allowed
from ...security.sms_codes import (CodeProblem, SendOutcome, SmsCodeError, check_code, send_code,
                                   withhold_code)
from ..account.notices import addressed_as_tu
from ..login.service import normalise_identifier
from . import service

PURPOSE = "password_reset"
SESSION_KEY = "password_reset_sms"
VERIFIED_SECONDS = 600  # time to choose the new password once the code is accepted


def has_channel(account) -> bool:
    return bool(account and account.phone and is_allowed(account.phone))


def start(identifier: str) -> SendOutcome:
    """Open a transaction for `identifier` and send (or imitate sending) the first code.
    Returns what the page says: sent, or how long to wait."""
    account = service.resettable_account(identifier)
    state = {"identifier": identifier, "transaction": secrets.token_urlsafe(16),
             "account_id": account.id if has_channel(account) else None,
             "sends": 0, "tries": 0, "code_expires": 0.0, "verified_until": 0.0}
    session[SESSION_KEY] = state
    return resend()


def current() -> dict | None:
    return session.get(SESSION_KEY)


def _account(state: dict):
    return db.session.get(Account, state["account_id"]) if state.get("account_id") else None


def resend() -> SendOutcome:
    """Send a new code (the older one stops working), within the per-number limits."""
    state = dict(current() or {})
    if not state:
        return SendOutcome(False, 0)
    now = time.time()
    account = _account(state)
    if account is not None and has_channel(account):
        outcome = send_code(phone=account.phone, purpose=PURPOSE,
                            transaction=state["transaction"], locale=account.locale or "fr",
                            tu=addressed_as_tu(account))
    else:
        outcome = withhold_code(stand_in=normalise_identifier(state["identifier"]),
                                purpose=PURPOSE, transaction=state["transaction"])
    sent, retry_after = outcome.sent, outcome.retry_after
    if sent:
        state["sends"] += 1
        state["tries"] = 0
        state["code_expires"] = now + float(current_app.config["SMS_CODE_MINUTES"]) * 60
    session[SESSION_KEY] = state
    record("password_reset_requested", target=state["identifier"][:64], channel="sms",
           sent=sent and account is not None)
    return SendOutcome(sent, retry_after)


def check(code: str) -> tuple[CodeProblem | None, int]:
    """(None, 0) when the code is right (the new password may then be chosen for a
    while), else (reason, tries left); unknown: no live code (used, replaced, or no
    transaction)."""
    state = dict(current() or {})
    if not state:
        return CodeProblem.unknown, 0
    account = _account(state)
    max_tries = int(current_app.config["SMS_CODE_MAX_ATTEMPTS"])
    if account is None or not has_channel(account):
        if not state["sends"]:
            return CodeProblem.unknown, 0
        if time.time() >= state["code_expires"]:
            return CodeProblem.expired, 0
        state["tries"] += 1
        session[SESSION_KEY] = state
        left = max(max_tries - state["tries"], 0)
        return (CodeProblem.dead if left == 0 else CodeProblem.wrong), left
    try:
        check_code(phone=account.phone, purpose=PURPOSE, transaction=state["transaction"],
                   code=code)
    except SmsCodeError as exc:
        return exc.reason, exc.attempts_left or 0
    state["verified_until"] = time.time() + VERIFIED_SECONDS
    session[SESSION_KEY] = state
    return None, 0


def verified_account():
    """The account whose code was accepted in this browser, while it may still choose."""
    state = current()
    if not state or state.get("verified_until", 0) < time.time():
        return None
    return _account(state)


def finish(password: str):
    """Set the new password (the caller checked the policy) and close the transaction."""
    account = verified_account()
    if account is None:
        return None
    session.pop(SESSION_KEY, None)
    return service.reset_after_code(account.id, password)

