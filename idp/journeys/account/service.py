"""J6 "Scolarité Services" (/compte): what the page shows, and the email and mobile
changes. Password changes are in credentials.py, notices in notices.py.

An email change reuses the preferences step's confirmation link (preferences/
email_change.py): nothing changes until the new address opens it. One rule everywhere
(here, the first connection, "Contact et préférences"): an address may serve several
accounts, as families share one; each account confirms it with its own link, and
"Identifiant oublié ?" sends that address the list of its accounts.
"""
from __future__ import annotations

import secrets
from enum import StrEnum

from flask import current_app, session
from sqlalchemy import func, select

from ...audit import record
from ...db import db
from ...extensions import store
from ...models import Account, RecoveryCode, SecondFactor
from ...security.mobile_numbers import display
from ...security.sms_codes import CodeProblem, SmsCodeError, check_code, send_code
from ..preferences import email_change
from .notices import addressed_as_tu, send_notice

PHONE_PURPOSE = "phone_change"
PHONE_KEY = "phone_change"


class EmailChange(StrEnum):
    """What asking for a new address did."""
    sent = "sent"    # a message went to the new address (a link, or "already taken")
    same = "same"    # already the account's confirmed address: nothing sent
    limit = "limit"  # past the hourly cap: nothing sent


def summary(account: Account) -> dict:
    """What "Mon compte" shows (two primary-key/indexed lookups)."""
    factor = db.session.get(SecondFactor, account.id)
    codes_left = db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))) if factor else 0
    return {"identifier": account.identifier, "name": account.display_name,
            "profile": account.profile.value, "email": account.email,
            "email_verified": account.email_verified,
            "pending_email": email_change.pending(account),
            "phone": display(account.phone) if account.phone else None,
            "second_factor": factor is not None, "recovery_codes_left": codes_left}


def _same_address(a: str | None, b: str | None) -> bool:
    return (a or "").strip().lower() == (b or "").strip().lower()


def may_send_email_change(account: Account) -> bool:
    """At most RECOVERY_SENDS_PER_HOUR confirmation messages per account and hour, so a
    session cannot be used to flood an address."""
    count = store().incr(f"email-change-sent:{account.id}", 3600)
    return count <= int(current_app.config["RECOVERY_SENDS_PER_HOUR"])


def request_email_change(account: Account, email: str) -> EmailChange:
    """same when it already is the account's confirmed address (nothing is sent), limit
    past the hourly cap, else sent (a confirmation link to the new address, which other
    accounts of the family may use too)."""
    if _same_address(account.email, email) and account.email_verified:
        return EmailChange.same
    if not may_send_email_change(account):
        return EmailChange.limit
    email_change.start(account, email)
    return EmailChange.sent


# --- Mobile number -------------------------------------------------------------------

def start_phone_change(account: Account, phone: str):
    """Send a code to the new number; the change waits in the session for it. Returns
    the SendOutcome (sent=False while the number's SMS limits hold)."""
    state = {"phone": phone, "transaction": secrets.token_urlsafe(16),
             "account_id": account.id}
    outcome = send_code(phone=phone, purpose=PHONE_PURPOSE, transaction=state["transaction"],
                        locale=account.locale or "fr", tu=addressed_as_tu(account))
    if outcome.sent:
        session[PHONE_KEY] = state
    return outcome


def pending_phone(account: Account) -> dict | None:
    state = session.get(PHONE_KEY)
    return state if state and state.get("account_id") == account.id else None


def resend_phone_code(account: Account):
    state = pending_phone(account)
    return send_code(phone=state["phone"], purpose=PHONE_PURPOSE,
                     transaction=state["transaction"], locale=account.locale or "fr",
                     tu=addressed_as_tu(account))


def confirm_phone_change(account: Account, code: str) -> tuple[CodeProblem | None, int]:
    """(None, 0) when the code is right: the number is changed (the notice goes to the
    email, or to the previous number). Else (reason, tries left)."""
    state = pending_phone(account)
    if state is None:
        return CodeProblem.unknown, 0
    try:
        check_code(phone=state["phone"], purpose=PHONE_PURPOSE,
                   transaction=state["transaction"], code=code)
    except SmsCodeError as exc:
        return exc.reason, exc.attempts_left or 0
    send_notice(account, "phone_changed")  # before the change: reaches the old number
    account.phone = state["phone"]
    db.session.flush()
    session.pop(PHONE_KEY, None)
    record("phone_changed", actor=account.identifier)
    return None, 0
