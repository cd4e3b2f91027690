""""Ce n'est pas moi": after an email change (preferences/email_change.py), the previous
address hears of it with a link that undoes it.

The link puts the previous address back, ends every session and refresh token of the
account, cancels pending email changes and mails a password reset link to the previous
address. It sits above the notices, the password changes and recovery, which it uses, so
none of them has to reach back up here.
"""
from __future__ import annotations

from datetime import timedelta

from ...audit import record
from ...db import db
from ...models import Account, AccountState
from ...notify import external_url, queue_email
from ...security.onetime import (LinkTokenError, consume_link_token, issue_link_token,
                                 revoke_link_tokens)
from ...signin.account_sessions import end_account_sessions
from ..preferences.email_change import PURPOSE as EMAIL_CHANGE
from ..recovery.service import send_reset_link
from .notices import notice_context

REPORT_PURPOSE = "email_change_report"
REPORT_LIFETIME = timedelta(days=7)


def mask_email(address: str) -> str:
    """"c•••@example.org": enough for the owner to recognise it, little for anyone else
    reading the old mailbox."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


def tell_previous_address(account: Account, previous: str | None) -> None:
    """Listener of preferences.email_change: the old address hears of the change and gets
    a link to report it (undo it, end every session, choose a new password)."""
    if not previous or previous.strip().lower() == (account.email or "").strip().lower():
        return
    token = issue_link_token(account.id, REPORT_PURPOSE, REPORT_LIFETIME,
                             {"previous": previous})
    queue_email(to=previous, template="email_changed", locale=account.locale or "fr",
                context=notice_context(account, "email_changed",
                                       new_email=mask_email(account.email or ""),
                                       report_link=external_url("account.report_email_change",
                                                                token=token),
                                       days=REPORT_LIFETIME.days))


class ReportError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def report_email_change(token: str) -> Account:
    """"Ce n'est pas moi": put the previous address back (it was verified), end every
    session and refresh token, cancel pending email changes, and mail a password reset
    link to the previous address. Raises ReportError(unknown|expired|used)."""
    try:
        row = consume_link_token(token, REPORT_PURPOSE)
    except LinkTokenError as exc:
        raise ReportError(exc.reason) from exc
    account = db.session.get(Account, row.account_id)
    previous = (row.payload or {}).get("previous")
    if account is None or not previous:
        raise ReportError("unknown")
    replaced = account.email
    account.email, account.email_verified = previous, True
    revoke_link_tokens(account.id, EMAIL_CHANGE)
    end_account_sessions(account, reason="email_change_reported")
    db.session.flush()
    record("email_change_reported", actor=account.identifier,
           replaced=mask_email(replaced or ""))
    if account.state == AccountState.active:  # others cannot reset (recovery/service.py)
        send_reset_link(account)
    return account
