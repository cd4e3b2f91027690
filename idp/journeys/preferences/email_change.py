"""Changing the email from "Contact et préférences": nothing changes until the link
sent to the new address is opened (a one-time link, security/onetime.py), so a typo
never replaces a working address and nobody can claim an address they cannot read.

Opening the link shows a page with one button (a POST): mail scanners that fetch links
do not use the token up.
"""
from __future__ import annotations

from datetime import timedelta

from flask import g
from sqlalchemy import select

from ...audit import record
from ...db import db
from ...models import Account, AccountState, OneTimeToken, utcnow
from ...notify import external_url, queue_email
from ...security.onetime import LinkTokenError, consume_link_token, issue_link_token
from ..account.notices import addressed_as_tu

PURPOSE = "email_change"
LINK_LIFETIME = timedelta(hours=24)
_WAITING_MEMO = "email_change_link_waiting"

# Called as listener(account, previous_verified_email_or_None) once a change is made (the
# account journey tells the old address, with a way to report the change).
CONFIRMED_LISTENERS: list = []


class EmailChangeError(Exception):
    """The link cannot be used: `reason` is "unknown", "expired" or "used"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def start(account: Account, new_email: str) -> None:
    """Queue the confirmation link to `new_email` (in this transaction); a newer link
    replaces an older one (the pages show the newest as the address waiting)."""
    token = issue_link_token(account.id, PURPOSE, LINK_LIFETIME, {"email": new_email})
    g.pop(_WAITING_MEMO, None)
    queue_email(to=new_email, template="email_change", locale=account.locale or "fr",
                context={"first_name": account.first_name, "identifier": account.identifier,
                         "tu": addressed_as_tu(account),
                         "link": external_url("preferences.confirm_email", token=token),
                         "hours": int(LINK_LIFETIME.total_seconds() // 3600)})
    record("email_change_requested", actor=account.identifier)


def confirm(token: str) -> Account:
    """Use the link once: the account's email becomes the new, verified address."""
    try:
        row = consume_link_token(token, PURPOSE)
    except LinkTokenError as exc:
        raise EmailChangeError(exc.reason) from exc
    account = db.session.get(Account, row.account_id)
    email = (row.payload or {}).get("email")
    if account is None or account.state == AccountState.deactivated or not email:
        raise EmailChangeError("unknown")
    previous = account.email if account.email_verified else None
    account.email = email
    account.email_verified = True
    db.session.flush()
    record("email_changed", actor=account.identifier)
    for listener in CONFIRMED_LISTENERS:
        listener(account, previous)
    return account


def _newest(account: Account, *conditions) -> OneTimeToken | None:
    return db.session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.account_id == account.id, OneTimeToken.purpose == PURPOSE,
            *conditions)
        .order_by(OneTimeToken.created_at.desc(), OneTimeToken.id.desc()).limit(1))


def _described(account: Account, row: OneTimeToken | None) -> dict | None:
    email = (row.payload or {}).get("email") if row is not None else None
    if not email or (account.email_verified and email.lower() == (account.email or "").lower()):
        return None
    return {"email": email, "sent_at": row.created_at, "expires_at": row.expires_at}


def pending(account: Account) -> dict | None:
    """The address waiting for its confirmation link (the newest live one): `email`,
    `sent_at`, `expires_at`; None when no change is waiting."""
    return _described(account, _newest(
        account, OneTimeToken.used_at.is_(None), OneTimeToken.revoked_at.is_(None),
        OneTimeToken.expires_at > utcnow()))


def lapsed(account: Account) -> dict | None:
    """The address of the newest link when that link ran out unopened (as `pending`):
    the contact step types it back and says the link expired; None otherwise (no link,
    or the newest was opened)."""
    row = _newest(account)
    if row is None or row.used_at is not None or row.expires_at > utcnow():
        return None
    return _described(account, row)


def link_waiting(account: Account) -> bool:
    """A confirmation link sent to the account can still be opened. Memoised for the
    request: the sign-in plan asks on every gated request (preferences/service.py)."""
    memo = g.setdefault(_WAITING_MEMO, {})
    if account.id not in memo:
        memo[account.id] = pending(account) is not None
    return memo[account.id]
