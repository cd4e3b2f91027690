""""Mes enfants": the pupils linked to a signed-in legal representative, and what the
representative may do for a young pupil (primary school or collège, GUARDIAN_MANAGED_LEVELS):
see the identifier, set a temporary password (after a confirmation page).

A representative acts only on a pupil linked to them by a GuardianLink (what the school or
the J4 sign-up confirmed): any other id, a declined link included, is "not found", the same
answer whether the pupil exists or not. Nothing here reactivates an account: a pupil the
school deactivated stays deactivated. Every action is audited and told to the pupil's
verified email, if any, through the outbox (in the same transaction).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from flask import current_app
from sqlalchemy import select

from ...audit import record
from ...db import db
from ...extensions import throttle
from ...models import Account, AccountState, GuardianLink, School, utcnow
from ...notify import external_url, queue_email
from ...roster.credentials import hash_provisional, locked_password_hash, new_provisional_password
from ...signin.account_sessions import end_account_sessions

# "5e A", "5EME B", "5ème", "6e1": the level is the leading digit and its "e".
_CLASS_LEVEL = re.compile(r"^\s*([1-6])\s*(?:e|è|eme|ème|EME|E)(?![a-z])", re.IGNORECASE)


class ChildState(StrEnum):
    """What the page says of a pupil's account (deleted accounts are not listed)."""
    never_activated = "never_activated"  # the letter was never used
    pending_email = "pending_email"      # first connection done, email link not clicked
    active = "active"
    deactivated = "deactivated"          # by the school, or past the deadline


_STATES = {AccountState.provisional: ChildState.never_activated,
           AccountState.pending_email: ChildState.pending_email,
           AccountState.active: ChildState.active,
           AccountState.deactivated: ChildState.deactivated}


class ChildActionRefused(Exception):
    """The pupil is linked, but the action does not apply (`reason`: "level" for a lycée
    pupil, "deactivated" for an account the school deactivated)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Child:
    id: int
    first_name: str
    last_name: str
    identifier: str
    school: str | None
    class_name: str | None
    state: ChildState
    managed: bool            # primary or collège: the representative may act
    temporary_password: bool  # a temporary password waits to be replaced


def class_level(class_name: str | None) -> str | None:
    """"5e" for "5e A" or "5EME B"; None when the class name does not start with one."""
    match = _CLASS_LEVEL.match(class_name or "")
    return f"{match.group(1)}e" if match else None


def is_managed(pupil: Account, school: School | None) -> bool:
    """A pupil whose representatives may see the identifier and set a temporary password:
    a primary school's pupil ("1d") or a listed class level (collège by default)."""
    levels = set(current_app.config["GUARDIAN_MANAGED_LEVELS"])
    if school is not None and school.level in levels:
        return True
    return class_level(pupil.class_name) in levels


def _rows(guardian: Account, pupil_id: int | None = None):
    stmt = (select(Account, School).join(GuardianLink, GuardianLink.pupil_id == Account.id)
            .outerjoin(School, School.id == Account.school_id)
            .where(GuardianLink.guardian_id == guardian.id,
                   Account.state != AccountState.deleted))
    if pupil_id is not None:
        stmt = stmt.where(Account.id == pupil_id)
    return db.session.execute(stmt.order_by(Account.first_name, Account.id)).all()


def _child(pupil: Account, school: School | None) -> Child:
    return Child(pupil.id, pupil.first_name, pupil.last_name, pupil.identifier,
                 school.name if school else None, pupil.class_name, _STATES[pupil.state],
                 is_managed(pupil, school), pupil.guardian_reset_at is not None)


def children_of(guardian: Account) -> list[Child]:
    """The pupils linked to this representative (one query)."""
    return [_child(pupil, school) for pupil, school in _rows(guardian)]


def linked_pupil(guardian: Account, pupil_id: int) -> tuple[Account, School | None] | None:
    """The pupil if linked to this representative, else None (never says which)."""
    rows = _rows(guardian, pupil_id)
    return (rows[0][0], rows[0][1]) if rows else None


def _actionable(guardian: Account, pupil_id: int) -> Account | None:
    found = linked_pupil(guardian, pupil_id)
    if found is None:
        return None
    pupil, school = found
    if not is_managed(pupil, school):
        raise ChildActionRefused("level")
    if pupil.state == AccountState.deactivated:
        raise ChildActionRefused("deactivated")
    return pupil


def _tell_pupil(pupil: Account, guardian: Account, action: str) -> None:
    """The pupil's verified email hears of it (a pupil without one has nothing to hear)."""
    if pupil.email and pupil.email_verified:
        queue_email(to=pupil.email, template="guardian_action", locale=pupil.locale or "fr",
                    context={"first_name": pupil.first_name, "identifier": pupil.identifier,
                             "action": action, "guardian": guardian.display_name,
                             "reset_link": external_url("recovery.password_start")})


def reveal_identifier(guardian: Account, pupil_id: int) -> Child | None:
    """The pupil's identifier for the representative (None: not linked); audited."""
    pupil = _actionable(guardian, pupil_id)
    if pupil is None:
        return None
    record("guardian_identifier_shown", actor=guardian.identifier, target=pupil.identifier)
    _tell_pupil(pupil, guardian, "identifier_shown")
    return _child(pupil, pupil.school)


def temporary_password_target(guardian: Account, pupil_id: int) -> Child | None:
    """The pupil a temporary password would be given to, for the confirmation page (None:
    not linked; ChildActionRefused as for the action itself). Changes and audits nothing."""
    pupil = _actionable(guardian, pupil_id)
    return None if pupil is None else _child(pupil, pupil.school)


def set_temporary_password(guardian: Account, pupil_id: int) -> tuple[Child, str] | None:
    """A new temporary password for the pupil, returned once (shown once, never stored in
    clear). The pupil's former password stops working, every session and refresh token
    of the pupil ends (relying parties told by back channel), and at the next sign-in the
    pupil chooses a new password (activation step, no birth-date question)."""
    pupil = _actionable(guardian, pupil_id)
    if pupil is None:
        return None
    temporary = new_provisional_password()
    pupil.provisional_password_hash = hash_provisional(temporary)
    pupil.password_hash = locked_password_hash()  # the forgotten password is dead
    pupil.guardian_reset_at = utcnow()
    pupil.birth_date_failures = 0
    throttle().clear_account(pupil.identifier)  # failed tries of the forgotten password
    end_account_sessions(pupil, reason="guardian_temporary_password")
    record("guardian_temporary_password", actor=guardian.identifier, target=pupil.identifier)
    _tell_pupil(pupil, guardian, "temporary_password")
    return _child(pupil, pupil.school), temporary
