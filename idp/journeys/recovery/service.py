"""J6 signed out: "Identifiant oublié ?" and "Mot de passe oublié ?".

An answer never tells a stranger whether an identifier, email or phone exists
(PRODUCT.md): every request gets the same page whether something matched or not, and
what it would have told goes to the address or number the account already has. Sends are
capped per address, number and account (RECOVERY_SENDS_PER_HOUR) so the forms cannot
bomb a family's mailbox; past the cap nothing more is sent and the page is unchanged.

Only `active` accounts are recovered by the family alone; an account without a verified
email nor a mobile has no channel: the page says to ask the school (seed 004).
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ...audit import record
from ...db import db
from ...extensions import store
from ...models import Account, AccountState, OneTimeToken, utcnow
from ...notify import external_url, queue_email
from ...security.client_address import client_key
from ...security.onetime import (LinkProblem, LinkTokenError, consume_link_token, hash_token,
                                 issue_link_token)
from ...security.sms_codes import withhold_code
from ...security.throttle import ip_pace
from ..account.credentials import RESET_PURPOSE, replace_password
from ..account.notices import addressed_as_tu
from ..login.service import find_account, normalise_identifier

# A forgotten identifier may belong to an account still waiting for its first connection
# (the letter was lost); a password is reset only for an active account.
IDENTIFIER_STATES = (AccountState.provisional, AccountState.pending_email, AccountState.active)


def too_many_requests() -> int:
    """Per IP, across every recovery form: past the ceiling the address is slowed (one
    form per growing delay, capped to RECOVERY_IP_MAX_DELAY_SECONDS), never shut out; while
    it waits the page says how long, in seconds (this says nothing about any account).
    0: go on."""
    config = current_app.config
    return ip_pace(store(), f"recovery-ip:{client_key()}",
                   int(config["RECOVERY_REQUESTS_PER_IP_HOUR"]),
                   int(config["RECOVERY_IP_MAX_DELAY_SECONDS"]))


def _under_cap(key: str) -> bool:
    count = store().incr(f"recovery-sent:{key}", 3600)
    return count <= int(current_app.config["RECOVERY_SENDS_PER_HOUR"])


def reset_link_lifetime() -> timedelta:
    return timedelta(minutes=int(current_app.config["PASSWORD_RESET_LINK_MINUTES"]))


# --- Forgotten identifier ---------------------------------------------------------------

def _identifier_list(accounts: list[Account]) -> list[dict]:
    return [{"identifier": a.identifier, "name": a.display_name, "profile": a.profile.value}
            for a in sorted(accounts, key=lambda a: a.identifier)]


def accounts_by_email(email: str) -> list[Account]:
    """Accounts whose *verified* email is `email` (as normalised by the forms)."""
    candidates = {email, email.lower()}
    return list(db.session.scalars(select(Account).where(
        Account.email.in_(candidates), Account.email_verified.is_(True),
        Account.state.in_(IDENTIFIER_STATES))))


def accounts_by_phone(phone: str) -> list[Account]:
    """Accounts whose registered mobile is `phone` (E.164)."""
    return list(db.session.scalars(select(Account).where(
        Account.phone == phone, Account.state.in_(IDENTIFIER_STATES))))


def send_identifiers_by_email(email: str) -> None:
    """Mail the identifier(s) of the accounts with this verified address, if any."""
    accounts = accounts_by_email(email)
    if not accounts or not _under_cap("id-email:" + email.lower()):
        record("identifier_recovery", channel="email", matched=bool(accounts), sent=False)
        return
    first = accounts[0]
    queue_email(to=first.email, template="recovery_identifier", locale=first.locale or "fr",
                context={"accounts": _identifier_list(accounts),
                         "tu": all(addressed_as_tu(a) for a in accounts),
                         "login_link": external_url("login.form"),
                         "reset_link": external_url("recovery.password_start")})
    record("identifier_recovery", channel="email", matched=True, sent=True,
           accounts=[a.identifier for a in accounts])


def send_identifiers_by_sms(phone: str) -> int:
    """Text the identifier(s) of the accounts registered with this mobile, if any. The
    per-number SMS limits (security/sms_codes.py) count every request, matched or not,
    so the answer is the same: returns 0, or the seconds to wait when a limit refuses."""
    accounts = sorted(accounts_by_phone(phone), key=lambda a: a.identifier)
    instead = ("recovery_identifier",
               {"identifiers": [a.identifier for a in accounts],
                "tu": all(addressed_as_tu(a) for a in accounts)}) if accounts else None
    outcome = withhold_code(phone=phone, purpose="identifier_recovery",
                            transaction=secrets.token_urlsafe(12),
                            locale=accounts[0].locale if accounts else "fr", instead=instead)
    record("identifier_recovery", channel="sms", matched=bool(accounts), sent=outcome.sent,
           accounts=[a.identifier for a in accounts])
    return 0 if outcome.sent else outcome.retry_after


# --- Forgotten password: by email ------------------------------------------------------

def resettable_account(identifier: str) -> Account | None:
    """The active account with this identifier, or None (unknown, waiting, deactivated)."""
    account = find_account(normalise_identifier(identifier))
    if account is None or account.state != AccountState.active:
        return None
    return account


def has_email_channel(account: Account | None) -> bool:
    return bool(account and account.email and account.email_verified)


def send_reset_link(account: Account) -> None:
    """A new reset link (older ones stop working) mailed to the verified address."""
    lifetime = reset_link_lifetime()
    token = issue_link_token(account.id, RESET_PURPOSE, lifetime)
    queue_email(to=account.email, template="password_reset", locale=account.locale or "fr",
                context={"first_name": account.first_name, "identifier": account.identifier,
                         "tu": addressed_as_tu(account),
                         "link": external_url("recovery.password_link", token=token),
                         "minutes": int(lifetime.total_seconds() // 60)})


def request_reset_by_email(identifier: str) -> None:
    """Send a reset link when the identifier names an active account with a verified
    email and the cap allows; otherwise nothing (the page is the same)."""
    account = resettable_account(identifier)
    sent = has_email_channel(account) and _under_cap(f"reset:{account.id}")
    if sent:
        send_reset_link(account)
    record("password_reset_requested", target=normalise_identifier(identifier)[:64],
           channel="email", sent=sent)


class ResetLinkError(Exception):
    """`reason`: a LinkProblem (unknown, expired or used)."""

    def __init__(self, reason: LinkProblem):
        super().__init__(reason)
        self.reason = reason


def account_for_link(token: str) -> Account:
    """The account a reset link is for, without using the link (opening the page must
    not spend it: mail scanners fetch links). Raises ResetLinkError."""
    if not token or len(token) > 100:
        raise ResetLinkError(LinkProblem.unknown)
    row = db.session.scalar(select(OneTimeToken).where(
        OneTimeToken.token_hash == hash_token(token), OneTimeToken.purpose == RESET_PURPOSE))
    if row is None:
        raise ResetLinkError(LinkProblem.unknown)
    if row.used_at is not None or row.revoked_at is not None:
        raise ResetLinkError(LinkProblem.used)
    if row.expires_at <= utcnow():
        raise ResetLinkError(LinkProblem.expired)
    account = db.session.get(Account, row.account_id)
    if account is None or account.state != AccountState.active:
        raise ResetLinkError(LinkProblem.unknown)
    return account


def reset_with_link(token: str, password: str) -> Account:
    """Use the link once and set the new password (the caller checked the policy)."""
    try:
        row = consume_link_token(token, RESET_PURPOSE)
    except LinkTokenError as exc:
        raise ResetLinkError(exc.reason) from exc
    account = db.session.get(Account, row.account_id)
    if account is None or account.state != AccountState.active:
        raise ResetLinkError(LinkProblem.unknown)
    replace_password(account, password, reason="reset")
    return account


def reset_after_code(account_id: int, password: str) -> Account | None:
    """Set the new password after the SMS code was checked (see sms.py)."""
    account = db.session.get(Account, account_id)
    if account is None or account.state != AccountState.active:
        return None
    replace_password(account, password, reason="reset")
    return account
