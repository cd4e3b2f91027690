""""Ajouter un enfant" by the J4 match (issue 20, point 2): the mobile number the other
school holds for the representative, a code sent to it by SMS (J4's machinery and limits),
then the birth date of each pupil the school links to that number. Each pupil whose date
is right is attached; the school's provisional account for that representative, if any,
is retired into the signed-in one (attach.retire_letter_account), as with a letter.

The code is sent only when a representative record holds the number; otherwise it is
withheld with the same limits and the same page (nothing says whether the number is
known). The state lives in the session, bound to the signed-in account. Wrong birth dates
count (SIGNUP_BIRTH_DATE_MAX_FAILURES, J4's limit): past it the attempt stops and the
family is sent to the school. The count is J4's (journeys/birth_dates.py), an atomic
counter in the store keyed on the attempt: kept in the session, requests sent side by
side each read the same count and each wrote it back plus one, so parallel guesses went
uncounted.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from flask import session
from sqlalchemy import select

from ...audit import record
from ...db import db
from ...models import (Account, AccountState, GuardianLink, PupilRecord, RecordGuardianLink,
                       RepresentativeRecord, School)
from ...roster.names import fold
from ...security.sms_codes import (CodeProblem, SmsCodeError, check_code, send_code,
                                   withhold_code)
from .. import birth_dates
from .attach import retire_letter_account
from .locks import lock_accounts

PURPOSE = "attach_child"
STATE = "attach_child"


@dataclass
class Candidate:
    """A pupil the school links to the number, not yet attached to this account."""
    account_id: int
    first_name: str
    school: str
    birth_date: date


def _records(phone: str) -> list[RepresentativeRecord]:
    return list(db.session.scalars(select(RepresentativeRecord).where(
        RepresentativeRecord.phone == phone)))


def start(guardian: Account, phone: str, locale: str = "fr"):
    """Send (or withhold) the code; the attempt is kept in the session once the SMS
    limits let it start. Returns the SendOutcome."""
    transaction = secrets.token_urlsafe(16)
    args = {"phone": phone, "purpose": PURPOSE, "transaction": transaction, "locale": locale}
    known = bool(_records(phone))
    outcome = send_code(**args) if known else withhold_code(**args)
    if outcome.sent:
        session[STATE] = {"account_id": guardian.id, "phone": phone, "tx": transaction,
                          "verified": False}
        record("guardian_attach_sms", actor=guardian.identifier)
    return outcome


def pending(guardian: Account) -> dict | None:
    state = session.get(STATE)
    return state if state and state.get("account_id") == guardian.id else None


def resend(guardian: Account, locale: str = "fr"):
    state = pending(guardian)
    args = {"phone": state["phone"], "purpose": PURPOSE, "transaction": state["tx"],
            "locale": locale}
    return send_code(**args) if _records(state["phone"]) else withhold_code(**args)


def verify(guardian: Account, code: str) -> None:
    """The code typed; raises SmsCodeError (a withheld code never matches)."""
    state = pending(guardian)
    if state is None:
        raise SmsCodeError(CodeProblem.unknown)
    check_code(phone=state["phone"], purpose=PURPOSE, transaction=state["tx"], code=code)
    if not _records(state["phone"]):  # a one-in-a-million guess of a withheld code
        raise SmsCodeError(CodeProblem.wrong, 0)
    session[STATE] = {**state, "verified": True}


def candidates(guardian: Account) -> list[Candidate]:
    """The pupils the school links to the verified number, minus those already attached."""
    state = pending(guardian)
    if state is None or not state.get("verified"):
        return []
    rows = db.session.execute(
        select(PupilRecord.account_id, PupilRecord.first_name, PupilRecord.birth_date,
               School.name)
        .join(RecordGuardianLink, RecordGuardianLink.pupil_record_id == PupilRecord.id)
        .join(RepresentativeRecord,
              RepresentativeRecord.id == RecordGuardianLink.representative_record_id)
        .join(School, School.id == PupilRecord.school_id)
        .join(Account, Account.id == PupilRecord.account_id)
        .where(RepresentativeRecord.phone == state["phone"],
               Account.state != AccountState.deleted)
        .order_by(PupilRecord.first_name)).all()
    have = set(db.session.scalars(select(GuardianLink.pupil_id).where(
        GuardianLink.guardian_id == guardian.id)))
    seen, out = set(), []
    for account_id, first_name, born, school in rows:
        if account_id not in have and account_id not in seen:
            seen.add(account_id)
            out.append(Candidate(account_id, first_name, school, born))
    return out


FAILURES_SECONDS = 24 * 3600  # outlives any attempt (its session state)


def confirm(guardian: Account, answers: dict[int, date | None]) -> tuple[list[int], int]:
    """Attach each candidate whose birth date is right (flushes). Returns (attached pupil
    ids, failures so far); at birth_dates.limit() the attempt is over (the session
    forgets it). Signed in: the number is not blocked (journeys/birth_dates.py)."""
    state = pending(guardian)
    # The same page sent twice at once (a double click): the second waits for the first
    # and finds its pupils attached, instead of linking them a second time (the unique
    # guardian link would fail: a 500).
    lock_accounts(guardian)
    wanted = {c.account_id: c for c in candidates(guardian)}
    attached, wrong = [], 0
    for account_id, value in answers.items():
        candidate = wanted.get(account_id)
        if candidate is None or value is None:
            continue
        if birth_dates.matches(candidate, value):
            attached.append(account_id)
        else:
            wrong += 1
    count = birth_dates.count_wrong(f"attach-birth:{state['tx']}", FAILURES_SECONDS, wrong)
    failures = count.failures
    if wrong:
        record("guardian_attach_birth_date_failed", actor=guardian.identifier,
               failures=failures)
    if count.over:
        session.pop(STATE, None)
        record("guardian_attach_stopped", actor=guardian.identifier)
        return [], failures
    if wrong:  # nothing is attached from a page with a wrong date
        return [], failures
    for account_id in attached:
        db.session.add(GuardianLink(guardian_id=guardian.id, pupil_id=account_id))
    db.session.flush()
    retired = []
    for rep in _records(state["phone"]):
        if rep.account_id and rep.account_id != guardian.id:
            other = db.session.get(Account, rep.account_id)
            theirs = set(db.session.scalars(select(GuardianLink.pupil_id).where(
                GuardianLink.guardian_id == other.id)))
            mine = set(db.session.scalars(select(GuardianLink.pupil_id).where(
                GuardianLink.guardian_id == guardian.id)))
            # Retired only once every pupil of that letter is attached here, and only
            # the letter of this person (names compared as J4 does): two parents may
            # share one mobile, and the other's letter stays theirs.
            same_person = (fold(rep.last_name), fold(rep.first_name)) == (
                fold(guardian.last_name), fold(guardian.first_name))
            if other.state == AccountState.provisional and theirs <= mine and same_person:
                retire_letter_account(other, guardian)
                retired.append(other.identifier)
    if attached:
        record("guardian_pupils_attached", actor=guardian.identifier, by="sms",
               pupils=[db.session.get(Account, i).identifier for i in attached],
               retired=retired)
    session.pop(STATE, None)
    return attached, failures
