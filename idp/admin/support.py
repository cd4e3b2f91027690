"""School support: the accounts of one school, their state and links, and what the
school may do for a family (unlock, reactivate with a new deadline, resend the
activation email; new letters are idp.roster.letters). Behind the console's school pages
and `idp accounts ...`; flushes, never commits.

An account belongs to a school when the school issued it (`Account.school_id`), when it is
a legal representative of one of the school's pupils (school records), or when it is
linked as guardian to a pupil account of the school. Every lookup goes through
`school_accounts`, so an account of another school is simply not found.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, union
from sqlalchemy.orm import aliased

from .. import models
from ..audit import record
from ..db import db
from ..extensions import throttle
from ..local_time import PARIS, paris_today
from ..journeys.activation.service import may_resend, send_activation_email
from ..models import (Account, AccountState, GuardianLink, PupilRecord, RecordGuardianLink,
                      RepresentativeRecord, School)

SEARCH_LIMIT = 50


class SupportError(ValueError):
    """An action that does not apply to this account; the message says why (French)."""


def school_accounts(school_id: int):
    """A SELECT of the ids of the accounts belonging to the school (see module doc)."""
    pupil = aliased(Account)
    return union(
        select(Account.id).where(Account.school_id == school_id),
        select(RepresentativeRecord.account_id)
        .join(RecordGuardianLink,
              RecordGuardianLink.representative_record_id == RepresentativeRecord.id)
        .join(PupilRecord, PupilRecord.id == RecordGuardianLink.pupil_record_id)
        .where(PupilRecord.school_id == school_id, RepresentativeRecord.account_id.is_not(None)),
        select(GuardianLink.guardian_id)
        .join(pupil, pupil.id == GuardianLink.pupil_id).where(pupil.school_id == school_id),
    )


def find_in_school(school: School, account_id: int) -> Account | None:
    """The account if it belongs to the school (and is not a deleted tombstone)."""
    return db.session.scalar(select(Account).where(
        Account.id == account_id, Account.state != AccountState.deleted,
        Account.id.in_(school_accounts(school.id))))


def find_by_identifier(school: School, identifier: str) -> Account | None:
    return db.session.scalar(select(Account).where(
        Account.identifier == identifier.strip().lower(), Account.state != AccountState.deleted,
        Account.id.in_(school_accounts(school.id))))


def search(school: School, query: str, limit: int = SEARCH_LIMIT) -> list[Account]:
    """Accounts of the school whose identifier or names contain every word typed.

    The school's account ids are read first (a few thousand, by index), then only those
    rows are matched: given the union as a subquery, PostgreSQL scanned every account
    with ILIKE (70 ms for 50,000 accounts, growing with the IdP, not with the school)."""
    ids = list(db.session.scalars(school_accounts(school.id)))
    if not ids:
        return []
    stmt = select(Account).where(Account.id.in_(ids), Account.state != AccountState.deleted)
    for word in query.split()[:5]:
        pattern = "%" + word.replace("\\", "").replace("%", "").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Account.identifier.ilike(pattern, escape="\\"),
                              Account.last_name.ilike(pattern, escape="\\"),
                              Account.first_name.ilike(pattern, escape="\\")))
    return list(db.session.scalars(stmt.order_by(Account.last_name, Account.first_name,
                                                 Account.identifier).limit(limit)))


def classes_of(school: School) -> list[str]:
    return [c for c in db.session.scalars(
        select(PupilRecord.class_name).where(PupilRecord.school_id == school.id,
                                             PupilRecord.class_name.is_not(None))
        .distinct().order_by(PupilRecord.class_name))]


# -- state ------------------------------------------------------------------------------
def lock_reasons(account: Account, blocks: list[dict] | None = None) -> list[str]:
    """Why the family cannot sign in or finish the first connection right now (`blocks`:
    the sign-in throttle's, when already read)."""
    reasons = []
    if blocks if blocks is not None else throttle().account_blocks(account.identifier):
        reasons.append("sign_in_failures")
    if account.birth_date_failures >= int(current_app.config["BIRTH_DATE_MAX_FAILURES"]):
        reasons.append("birth_date_failures")
    return reasons


@dataclass
class AccountView:
    account: Account
    locked: list[str]
    failures: int
    blocks: list[dict]         # every sign-in counter blocking it (security/throttle.py)
    guardians: list[Account]   # for a pupil: the linked legal representatives
    pupils: list[Account]      # for a parent: the linked pupils
    declined: list[dict]       # links a family declined (self-registration), when known


def declined_links(*, account: Account | None = None, school: School | None = None,
                   limit: int = 50) -> list[dict]:
    """Links a family declined at self-registration ("je ne suis pas le représentant
    légal de cet élève", issue 5's DeclinedGuardianLink): the school's records may be
    wrong. For one account (either side) or one school; [] until that model exists."""
    model = getattr(models, "DeclinedGuardianLink", None)
    if model is None:
        return []
    stmt = (select(model.declined_at, PupilRecord.first_name, PupilRecord.last_name,
                   PupilRecord.class_name, RepresentativeRecord.first_name.label("rep_first"),
                   RepresentativeRecord.last_name.label("rep_last"))
            .join(PupilRecord, PupilRecord.id == model.pupil_record_id)
            .join(RepresentativeRecord, RepresentativeRecord.id == model.representative_record_id))
    if school is not None:
        stmt = stmt.where(model.school_id == school.id)
    if account is not None:
        stmt = stmt.where(or_(model.account_id == account.id,
                              PupilRecord.account_id == account.id,
                              RepresentativeRecord.account_id == account.id))
    rows = db.session.execute(stmt.order_by(model.declined_at.desc()).limit(limit)).all()
    return [{"pupil": f"{r.first_name} {r.last_name}", "class_name": r.class_name,
             "representative": f"{r.rep_first} {r.rep_last}",
             "declined_at": r.declined_at.isoformat() if r.declined_at else None}
            for r in rows]


def view(account: Account) -> AccountView:
    """Everything the account page shows, in a handful of queries."""
    pupil, guardian = aliased(Account), aliased(Account)
    guardians = db.session.scalars(select(guardian).join(
        GuardianLink, GuardianLink.guardian_id == guardian.id).where(
        GuardianLink.pupil_id == account.id).order_by(guardian.last_name)).all()
    pupils = db.session.scalars(select(pupil).join(
        GuardianLink, GuardianLink.pupil_id == pupil.id).where(
        GuardianLink.guardian_id == account.id).order_by(pupil.first_name)).all()
    blocks = throttle().account_blocks(account.identifier)
    return AccountView(account, lock_reasons(account, blocks),
                       throttle().failures(account.identifier), blocks,
                       list(guardians), list(pupils), declined_links(account=account))


def describe(account: Account) -> dict:
    data = view(account)
    return {"id": account.id, "identifier": account.identifier,
            "profile": account.profile.value, "state": account.state.value,
            "locked": data.locked, "failures": data.failures, "blocks": data.blocks,
            "first_name": account.first_name, "last_name": account.last_name,
            "class_name": account.class_name,
            "school": account.school.uai if account.school else None,
            "email": account.email, "email_verified": account.email_verified,
            "activation_deadline": account.activation_deadline.isoformat()
            if account.activation_deadline else None,
            "guardians": [a.identifier for a in data.guardians],
            "pupils": [a.identifier for a in data.pupils], "declined_links": data.declined}


# -- actions ----------------------------------------------------------------------------
def unlock(account: Account, actor: str | None = None) -> list[str]:
    """Clear every sign-in failure counter of the account (from any address) and the
    birth-date failures. Returns what was locked (audited even when nothing was: the
    school looked at it)."""
    reasons = lock_reasons(account)
    throttle().clear_account(account.identifier)
    account.birth_date_failures = 0
    record("account_unlocked", actor=actor, target=account.identifier, was=reasons)
    return reasons


def default_deadline(today: date | None = None) -> date:
    today = today or paris_today()
    return today + timedelta(days=int(current_app.config["ACTIVATION_WINDOW_DAYS"]))


def latest_deadline(today: date | None = None) -> date:
    return (today or paris_today()) + timedelta(days=365)


def reactivate(account: Account, deadline: date, actor: str | None = None) -> AccountState:
    """A deactivated account works again: an account that had been activated is active
    again; one that never was goes back to waiting (its letter, or its email link) until
    `deadline` (the end of that day in Paris)."""
    if account.state != AccountState.deactivated:
        raise SupportError(_("Ce compte n'est pas désactivé."))
    if account.merged_into_id is not None:  # "Ajouter un enfant": the family's other account
        raise SupportError(_("Ce compte a été fusionné dans un autre compte de la famille, "
                             "qui a repris ses élèves : il ne peut pas être réactivé."))
    today = paris_today()
    if not today < deadline <= latest_deadline(today):
        raise SupportError(_("La nouvelle date limite doit être dans l'année à venir."))
    if account.activated_at is not None:
        account.state = AccountState.active
    elif account.provisional_password_hash is None and account.email:
        account.state = AccountState.pending_email
    else:
        account.state = AccountState.provisional
    # The end of that day in Paris, the day the console and the family's pages show.
    account.activation_deadline = datetime.combine(deadline, time(23, 59, 59), tzinfo=PARIS)
    account.deactivated_at = None
    account.reminder_sent_at = None
    account.birth_date_failures = 0
    record("account_reactivated", actor=actor, target=account.identifier,
           state=account.state.value, deadline=deadline.isoformat())
    return account.state


def resend_activation(account: Account, actor: str | None = None) -> None:
    """A new activation link to the email given at first connection (older links stop
    working); at most one per ACTIVATION_RESEND_SECONDS, like the family's own button."""
    if account.state != AccountState.pending_email or not account.email:
        raise SupportError(_("Ce compte n'attend pas la confirmation d'une adresse "
                             "électronique."))
    if not may_resend(account):
        raise SupportError(_("Un message vient d'être envoyé : attendez une minute avant "
                             "d'en demander un autre."))
    send_activation_email(account)
    record("activation_email_resent", actor=actor, target=account.identifier)
