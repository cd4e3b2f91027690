"""J3 first connection with a school letter [seeds 000, 001, 002, 004].

Signed in with the provisional password, the family chooses a password, proves it knows
the child's birth date (the school record's) and gives an email. The account is then
`pending_email` until the emailed link is clicked, and only `active` accounts get past the
sign-in plan, so nothing is issued to a relying party before. A pupil may go without an
email (seed 004's warning): the account is active at once. Five wrong birth dates and the
account waits for the school to issue a new letter.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from flask import current_app, has_request_context, session
from flask_babel import gettext as _
from sqlalchemy import select

from ...audit import record
from ...db import db
from ...extensions import passwords, store
from ...local_time import paris
from ...models import Account, AccountProfile, AccountState, GuardianLink
from ...models.base import utcnow
from ...notify import external_url, queue_email
from ...roster.credentials import provisional_matches
from ...security.onetime import LinkTokenError, consume_link_token, issue_link_token
from ...security.passwords import policy_problems
from ...signin.account_sessions import end_account_sessions
from ..account.notices import addressed_as_tu
from ..preferences import email_change

PURPOSE = "activation"
WAITING = (AccountState.provisional, AccountState.pending_email)


class ConfirmOutcome(StrEnum):
    """What the emailed link did (the link's own errors keep LinkTokenError's names)."""
    activated = "activated"
    already_active = "already_active"
    deactivated = "deactivated"
    unknown = LinkTokenError.UNKNOWN
    expired = LinkTokenError.EXPIRED
    used = LinkTokenError.USED


def is_needed(ctx) -> bool:
    """The step runs for a signed-in account that has not finished its first connection,
    or a pupil whose legal representative set a temporary password ("Mes enfants")."""
    return ctx.account is not None and (ctx.account.state in WAITING
                                        or ctx.account.guardian_reset_at is not None)


def is_guardian_reset(account: Account) -> bool:
    """An activated pupil signed in with the temporary password a representative set:
    the same form, without the birth-date question (the representative vouched)."""
    return account.guardian_reset_at is not None and account.state == AccountState.active


def is_pupil(account: Account) -> bool:
    return account.profile == AccountProfile.pupil


def deadline_of(account: Account) -> datetime:
    """The activation deadline (accounts made without a letter get a window from now)."""
    return account.activation_deadline or utcnow() + timedelta(
        days=int(current_app.config["ACTIVATION_WINDOW_DAYS"]))


def expire_if_late(account: Account, now: datetime | None = None) -> bool:
    """Past the deadline the letter no longer works: deactivate now rather than waiting
    for the next lifecycle pass. True when the account is (now) deactivated."""
    now = now or utcnow()
    deadline = account.activation_deadline
    if account.state in WAITING and deadline is not None and deadline <= now:
        account.state = AccountState.deactivated
        account.deactivated_at = now
        end_account_sessions(account, reason="not_activated")
        record("account_deactivated", actor="activation", target=account.identifier,
               reason="not_activated")
        return True
    return account.state == AccountState.deactivated


def max_failures() -> int:
    return int(current_app.config["BIRTH_DATE_MAX_FAILURES"])


def is_blocked(account: Account) -> bool:
    return account.birth_date_failures >= max_failures()


def known_birth_dates(account: Account) -> list[date]:
    """A pupil's own birth date; for a parent, those of the linked pupils."""
    if is_pupil(account):
        return [account.birth_date] if account.birth_date else []
    rows = db.session.scalars(select(Account.birth_date).join(
        GuardianLink, GuardianLink.pupil_id == Account.id).where(
        GuardianLink.guardian_id == account.id)).all()
    return [d for d in rows if d is not None]


def check_birth_date(account: Account, value: date) -> bool:
    """True when it matches the school's record; otherwise count the failure."""
    if value in known_birth_dates(account):
        return True
    account.birth_date_failures += 1
    record("activation_birth_date_failed", actor=account.identifier,
           failures=account.birth_date_failures)
    if is_blocked(account):
        record("activation_blocked", actor=account.identifier)
    return False


def forbidden_words(account: Account) -> tuple[str, ...]:
    words = [account.identifier, account.first_name, account.last_name]
    for d in known_birth_dates(account):
        words += [d.strftime("%d%m%Y"), d.strftime("%d%m%y"), d.strftime("%Y%m%d"),
                  d.strftime("%d/%m/%Y")]
    return tuple(words)


def password_problems(account: Account, password: str) -> list[str]:
    """The house policy, plus: not the provisional password of the letter."""
    informal = is_pupil(account)  # a pupil's page says "tu"
    problems = [str(p) for p in policy_problems(password, forbidden=forbidden_words(account),
                                                  informal=informal)]
    if provisional_matches(account.provisional_password_hash, password):
        problems.append(_("Choisis un mot de passe différent du mot de passe provisoire.")
                        if informal else
                        _("Choisissez un mot de passe différent du mot de passe provisoire."))
    return problems


KEPT_PASSWORD = "activation_password"


def keep_password(account: Account, password: str) -> None:
    """A password that passed every rule, in a form refused for another field: its hash
    waits in the (server-side) session, so the family does not type it twice again."""
    session[KEPT_PASSWORD] = {"account_id": account.id, "hash": passwords().hash(password)}


def kept_password_hash(account: Account) -> str | None:
    kept = session.get(KEPT_PASSWORD)
    return kept["hash"] if kept and kept.get("account_id") == account.id else None


def complete_first_connection(account: Account, password: str, email: str | None,
                              now: datetime | None = None,
                              password_hash: str | None = None) -> None:
    """Save the chosen password (or `password_hash`, kept from an earlier round); with an
    email, wait for its link, without (pupils only) the account is active at once. Every
    other session and refresh token of the account ends (relying parties told, for an
    account that was in use before its new letter); this browser stays signed in."""
    now = now or utcnow()
    if has_request_context():
        session.pop(KEPT_PASSWORD, None)
    account.password_hash = password_hash or passwords().hash(password)
    account.provisional_password_hash = None
    account.guardian_reset_at = None
    account.birth_date_failures = 0
    end_account_sessions(account, reason="activation", keep_this_session=True)
    if email and account.email_verified and email.lower() == (account.email or "").lower():
        # Confirmed before (a new letter for an account that was in use): no new link.
        account.state = AccountState.active
        account.activated_at = now
        record("account_activated", actor=account.identifier, with_email=True)
    elif email:
        account.email, account.email_verified = email, False
        account.state = AccountState.pending_email
        record("activation_form_completed", actor=account.identifier, with_email=True)
        send_activation_email(account, now)
    else:
        account.state = AccountState.active
        account.activated_at = now
        record("account_activated", actor=account.identifier, with_email=False)


def complete_guardian_reset(account: Account, password: str, email: str | None,
                            password_hash: str | None = None) -> bool:
    """An active pupil replaces the temporary password a representative gave: the account
    stays active. A new address is confirmed by its link before it replaces the verified
    one (as in Mon compte). The other sessions and refresh tokens end as with any new
    password; this browser stays signed in. True when a confirmation link was sent."""
    if has_request_context():
        session.pop(KEPT_PASSWORD, None)
    account.password_hash = password_hash or passwords().hash(password)
    account.provisional_password_hash = None
    account.guardian_reset_at = None
    end_account_sessions(account, reason="guardian_reset", keep_this_session=True)
    record("guardian_reset_completed", actor=account.identifier)
    if email and not (account.email_verified
                      and email.lower() == (account.email or "").lower()):
        email_change.start(account, email)
        return True
    return False


def send_activation_email(account: Account, now: datetime | None = None) -> None:
    """A new link (the older ones stop working) mailed through the outbox."""
    now = now or utcnow()
    deadline = deadline_of(account)
    token = issue_link_token(account.id, PURPOSE, max(deadline - now, timedelta(hours=1)),
                             {"email": account.email})
    queue_email(to=account.email, template="activation", locale=account.locale or "fr",
                context={"first_name": account.first_name, "identifier": account.identifier,
                         "tu": addressed_as_tu(account),
                         "link": external_url("activation.confirm", token=token),
                         "deadline": paris(deadline, "%d/%m/%Y")})
    record("activation_email_queued", actor=account.identifier)


def may_resend(account: Account) -> bool:
    """At most one message per ACTIVATION_RESEND_SECONDS per account (shared store)."""
    seconds = int(current_app.config["ACTIVATION_RESEND_SECONDS"])
    return store().add(f"activation-resend:{account.id}", 1, seconds)


def change_pending_email(account: Account, email: str) -> None:
    account.email, account.email_verified = email, False
    record("activation_email_changed", actor=account.identifier)
    send_activation_email(account)


def confirm(token: str, now: datetime | None = None) -> tuple[ConfirmOutcome, Account | None]:
    """The emailed link: what it did, and the account when known."""
    now = now or utcnow()
    try:
        row = consume_link_token(token, PURPOSE)
    except LinkTokenError as exc:
        account = db.session.get(Account, exc.account_id) if exc.account_id else None
        if account is not None and account.state == AccountState.active:
            return ConfirmOutcome.already_active, account
        if account is not None and account.state == AccountState.deactivated:
            return ConfirmOutcome.deactivated, account
        return ConfirmOutcome(exc.reason), account
    account = db.session.get(Account, row.account_id)
    if account is None or account.state != AccountState.pending_email \
            or row.payload.get("email") != account.email:
        if account is not None and account.state == AccountState.active:
            return ConfirmOutcome.already_active, account
        return ConfirmOutcome.used, account
    if expire_if_late(account, now):
        return ConfirmOutcome.deactivated, account
    account.state = AccountState.active
    account.email_verified = True
    account.activated_at = now
    record("account_activated", actor=account.identifier, with_email=True)
    return ConfirmOutcome.activated, account
