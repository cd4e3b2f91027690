"""Security notices: a family hears of every change to its sign-in details on the address
it had before, so a change it did not make does not go unnoticed.

A notice goes to the account's verified email; an account without one gets it by SMS on
its registered mobile; an account with neither gets nothing (it can only be helped by the
school, seed 004). An email change is told to the *previous* address, with a link that
undoes it ("Ce n'est pas moi").
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask_babel import force_locale, format_datetime, gettext

from ...audit import record
from ...db import db
from ...models import Account, AccountState
from ...notify import external_url, queue_email, queue_sms

REPORT_PURPOSE = "email_change_report"
REPORT_LIFETIME = timedelta(days=7)

# Kinds of change a notice can tell (the sentence for each is in the templates).
KINDS = ("password_changed", "password_reset", "phone_changed", "second_factor_enabled",
         "second_factor_disabled", "recovery_codes_renewed", "recovery_code_used")


def _when(locale: str) -> str:
    # In the account's language (month names, word order), like the rest of the notice.
    with force_locale(locale):
        return format_datetime(datetime.now(timezone.utc), gettext("d MMMM y 'à' HH:mm"))


def _context(account: Account, kind: str, **extra) -> dict:
    return {"kind": kind, "first_name": account.first_name, "identifier": account.identifier,
            "when": _when(account.locale or "fr"), "reset_link": external_url("recovery.password_start"),
            "account_link": external_url("account.index"), **extra}


def send_notice(account: Account, kind: str, **extra) -> None:
    """Queue the notice of `kind` (in this transaction) on the account's channel."""
    if kind not in KINDS:
        raise ValueError(kind)
    context = _context(account, kind, **extra)
    locale = account.locale or "fr"
    if account.email and account.email_verified:
        queue_email(to=account.email, template="security_notice", context=context,
                    locale=locale)
    elif account.phone:
        queue_sms(to=account.phone, template="security_notice", context=context,
                  locale=locale)


def mask_email(address: str) -> str:
    """"c•••@example.org": enough for the owner to recognise it, little for anyone else
    reading the old mailbox."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


def tell_previous_address(account: Account, previous: str | None) -> None:
    """Listener of preferences.email_change: the old address hears of the change and gets
    a link to report it (undo it, end every session, choose a new password)."""
    from ...security.onetime import issue_link_token

    if not previous or previous.strip().lower() == (account.email or "").strip().lower():
        return
    token = issue_link_token(account.id, REPORT_PURPOSE, REPORT_LIFETIME,
                             {"previous": previous})
    queue_email(to=previous, template="email_changed", locale=account.locale or "fr",
                context=_context(account, "email_changed",
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
    from ...security.onetime import LinkTokenError, consume_link_token, revoke_link_tokens
    from ..preferences.email_change import PURPOSE as EMAIL_CHANGE
    from ..recovery.service import send_reset_link
    from .credentials import end_everything

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
    end_everything(account)
    db.session.flush()
    record("email_change_reported", actor=account.identifier,
           replaced=mask_email(replaced or ""))
    if account.state == AccountState.active:  # others cannot reset (recovery/service.py)
        send_reset_link(account)
    return account
