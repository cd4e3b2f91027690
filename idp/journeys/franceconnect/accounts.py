"""The account a first FranceConnect link signs in, once service.py has decided who
the identity is: made from the school's record (`create_account`), a provisional one
taken over (`take_over`) or an account in use whose password was confirmed
(`link_existing`). Each writes the FranceConnect link, the names and birth date from
FranceConnect, and the links to the pupils confirmed. Functions flush, never commit.
"""
from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import or_, select, update

from ...audit import record
from ...db import db
from ...extensions import passwords
from ...models import (Account, AccountProfile, AccountState, DeclinedGuardianLink,
                       FranceConnectLink, GuardianLink, RecordGuardianLink as L,
                       RepresentativeRecord, utcnow)
from ...roster.names import allocate_identifier
from ..signup import provisional
from ..signup.matching import ListedPupil
from .state import LinkTransaction


def _birthdate(identity: dict) -> date | None:
    try:
        return date.fromisoformat(identity.get("birthdate") or "")
    except ValueError:
        return None


def _pivot(account: Account, identity: dict) -> None:
    """The names and birth date from FranceConnect (read-only while linked)."""
    account.first_name = identity["given_name"][:100]
    account.last_name = identity["family_name"][:100]
    account.birth_date = _birthdate(identity)


def _link_row(account: Account, identity: dict, created: bool,
              placeholder: str | None) -> FranceConnectLink:
    link = FranceConnectLink(
        account_id=account.id, sub=identity["sub"], given_name=identity["given_name"][:200],
        family_name=identity["family_name"][:200], birthdate=_birthdate(identity),
        birthplace=(identity.get("birthplace") or "")[:5],
        birthcountry=(identity.get("birthcountry") or "")[:5], created_account=created,
        placeholder_hash=placeholder, last_used_at=utcnow())
    db.session.add(link)
    db.session.flush()
    return link


def _link_pupils(account: Account, pupils: list[ListedPupil], tx: LinkTransaction) -> None:
    """Account-level links for the pupils confirmed; "Je ne suis pas le représentant
    légal" recorded for the school, as J4 does (DeclinedGuardianLink)."""
    have = set(db.session.scalars(select(GuardianLink.pupil_id).where(
        GuardianLink.guardian_id == account.id)))
    declined = set(db.session.scalars(select(DeclinedGuardianLink.pupil_record_id).where(
        DeclinedGuardianLink.representative_record_id == tx.record_ids[0])))
    # Only the representative's own pupils (the number may serve another one's too).
    own = set(db.session.scalars(select(L.pupil_record_id).where(
        L.representative_record_id.in_(tx.record_ids))))
    for pupil in pupils:
        answer = tx.answers.get(str(pupil.id))
        if answer == "yes" and pupil.account_id and pupil.account_id not in have:
            db.session.add(GuardianLink(guardian_id=account.id, pupil_id=pupil.account_id))
            have.add(pupil.account_id)
        elif answer == "no" and pupil.id in own and pupil.id not in declined:
            db.session.add(DeclinedGuardianLink(
                representative_record_id=tx.record_ids[0], pupil_record_id=pupil.id,
                school_id=pupil.school_id, account_id=account.id))
            record("guardian_link_declined", target=f"pupil_record:{pupil.id}")
    db.session.flush()


class AlreadyLinked(Exception):
    """Another request linked this identity or claimed the record first."""


def create_account(tx: LinkTransaction, pupils: list[ListedPupil]) -> Account:
    """The representative's account, made from the record and FranceConnect's identity,
    without a password (an argon2 hash of a secret thrown away stands in for one)."""
    placeholder = passwords().hash(secrets.token_urlsafe(32))
    R = RepresentativeRecord
    rep = db.session.get(R, tx.record_ids[0])
    free = or_(R.account_id.is_(None), R.account_id.in_(
        select(Account.id).where(Account.state == AccountState.deleted)))
    now = utcnow()
    linked = [p for p in pupils if tx.answers.get(str(p.id)) == "yes"]
    account = Account(identifier=allocate_identifier(rep.first_name, rep.last_name),
                      password_hash=placeholder, profile=AccountProfile.parent,
                      state=AccountState.active, academy_code=rep.academy_code,
                      email=rep.email, email_verified=False, phone=tx.phone,
                      school_id=linked[0].school_id if linked else None,
                      created_at=now, activated_at=now)
    _pivot(account, tx.identity)
    db.session.add(account)
    db.session.flush()
    won = db.session.execute(update(R).where(R.id == rep.id, free).values(account_id=account.id),
                             execution_options={"synchronize_session": False}).rowcount
    if won != 1:
        raise AlreadyLinked()
    _link_row(account, tx.identity, True, placeholder)
    _link_pupils(account, pupils, tx)
    record("franceconnect_linked", actor=account.identifier, mode="created")
    return account


def take_over(tx: LinkTransaction, account_id: int, pupils: list[ListedPupil]) -> Account:
    """A provisional account (the school's letter never used): FranceConnect, the SMS code
    and the birth dates activate it, with its identifier; no password until one is
    chosen."""
    placeholder = passwords().hash(secrets.token_urlsafe(32))
    account = provisional.activate(account_id, placeholder, tx.phone, utcnow())
    if account is None:
        raise AlreadyLinked()
    _pivot(account, tx.identity)
    _link_row(account, tx.identity, True, placeholder)
    _link_pupils(account, pupils, tx)
    record("franceconnect_linked", actor=account.identifier, mode="provisional")
    return account


def link_existing(tx: LinkTransaction, account: Account,
                  pupils: list[ListedPupil]) -> Account:
    """An account in use, its password confirmed: linked, its names FranceConnect's."""
    _pivot(account, tx.identity)
    _link_row(account, tx.identity, False, None)
    _link_pupils(account, pupils, tx)
    record("franceconnect_linked", actor=account.identifier, mode="existing")
    return account
