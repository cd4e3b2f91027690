""""Ajouter un enfant" (issue 20, point 2): a representative already signed in attaches
the pupils of another school's letter addressed to them (its identifier and provisional
password). The letter's account, never activated, is retired into the signed-in one: its
pupils are linked to it, it is deactivated for good with `merged_into_id` naming the
account that took over (what the school's console shows), and both sides are audited.

The letter's password is checked under the sign-in throttle, keyed on the identifier typed:
a wrong identifier or password, a letter already used (an activated account), a letter
past its activation deadline (which the lifecycle pass may not have deactivated yet: a
provisional password expires with the activation window), one's own identifier: the
same answer, which says nothing about the account.
"""
from __future__ import annotations

from enum import StrEnum

from sqlalchemy import delete, select

from ...audit import record
from ...db import db
from ...extensions import throttle
from ...models import Account, AccountProfile, AccountState, GuardianLink, utcnow
from ...models.base import as_utc
from ...roster.credentials import locked_password_hash, provisional_password_matches
from ...security.client_address import client_key
from ...signin.account_sessions import end_account_sessions
from .locks import lock_accounts


class AttachRefused(StrEnum):
    credentials = "credentials"    # not a valid letter (the same answer for every cause)
    throttled = "throttled"        # too many wrong tries for this identifier
    pupil_letter = "pupil_letter"  # a pupil's letter, not a representative's
    already = "already"            # every pupil of the letter is already attached
    no_pupil = "no_pupil"          # the letter's account is linked to no pupil


class AttachError(Exception):
    def __init__(self, reason: AttachRefused):
        super().__init__(reason.value)
        self.reason = reason


def _letter_account(guardian: Account, identifier: str, password: str) -> Account:
    typed = identifier.strip().lower()
    ip = client_key()
    guard = throttle()
    if guard.is_blocked(ip, typed):
        raise AttachError(AttachRefused.throttled)
    other = db.session.scalar(select(Account).where(Account.identifier == typed))
    valid = (other is not None and other.id != guardian.id
             and other.state == AccountState.provisional
             and (other.activation_deadline is None
                  or as_utc(other.activation_deadline) > utcnow())
             and provisional_password_matches(other, password))
    if not valid:
        guard.record_failure(ip, typed)
        record("guardian_attach_failed", actor=guardian.identifier)
        raise AttachError(AttachRefused.credentials)
    guard.clear_success(ip, typed)
    # The same letter sent twice at once (a double click): the second waits for the
    # first and finds the letter used, instead of linking the pupils a second time
    # (the unique guardian link would fail: a 500).
    lock_accounts(guardian, other)
    if other.state != AccountState.provisional:
        raise AttachError(AttachRefused.credentials)
    return other


def attach_by_letter(guardian: Account, identifier: str, password: str) -> list[Account]:
    """Link the letter's pupils to `guardian` and retire the letter's account (flushes).
    Returns the pupils newly attached; AttachError when nothing may change."""
    other = _letter_account(guardian, identifier, password)
    if other.profile != AccountProfile.parent:
        raise AttachError(AttachRefused.pupil_letter)
    pupils = db.session.scalars(
        select(Account).join(GuardianLink, GuardianLink.pupil_id == Account.id)
        .where(GuardianLink.guardian_id == other.id, Account.state != AccountState.deleted)
        .order_by(Account.first_name)).all()
    if not pupils:
        raise AttachError(AttachRefused.no_pupil)
    have = set(db.session.scalars(select(GuardianLink.pupil_id).where(
        GuardianLink.guardian_id == guardian.id)))
    new = [p for p in pupils if p.id not in have]
    if not new:
        raise AttachError(AttachRefused.already)
    for pupil in new:
        db.session.add(GuardianLink(guardian_id=guardian.id, pupil_id=pupil.id))
    db.session.flush()
    record("guardian_pupils_attached", actor=guardian.identifier, target=other.identifier,
           pupils=[p.identifier for p in new])
    retire_letter_account(other, guardian)
    return new


def retire_letter_account(other: Account, guardian: Account) -> None:
    """The never-activated representative account the family replaced by its own: its
    guardian links go, it is deactivated for good (merged_into_id: what the school sees,
    and what refuses a reactivation), its letter stops working. Audited (flushes)."""
    db.session.execute(delete(GuardianLink).where(GuardianLink.guardian_id == other.id),
                       execution_options={"synchronize_session": False})
    other.state = AccountState.deactivated
    other.deactivated_at = utcnow()
    other.merged_into_id = guardian.id
    other.provisional_password_hash = None
    other.password_hash = locked_password_hash()
    end_account_sessions(other, reason="letter_account_retired")  # the letter's sessions
    db.session.flush()
    record("account_merged", actor=guardian.identifier, target=other.identifier,
           kept=guardian.identifier)
