"""J4b: the rules of signing in with FranceConnect; views.py parses and renders.

1. `linked_account(sub)`: a `sub` already linked signs its account in (then the normal
   sign-in plan: charter, preferences, consent). Never found by email or phone.
2. Otherwise a link transaction (state.py) goes, ÉduConnect's way, through:
   `send_code`: the mobile number the school holds -> an SMS code (J4's machinery, its
   limits, purpose "franceconnect"); for a number no school record holds, the code is
   withheld with the same limits and page (nothing tells a stranger which numbers the
   schools hold). `verify_code` -> `pupils_of`: the pupils linked to that number ->
   their birth dates (wrong ones counted, J4's limit) -> `decide`: the FranceConnect
   names must match the representative's record, compared as J4 compares names (folded:
   no case, accents, hyphens, spaces; the first of several given names is enough).
3. `decide`: one representative, no account -> `create_account` (no password: one may
   be chosen later); a provisional account (letter never used) -> it is taken over;
   an account in use -> its password is asked (`confirm_password`), then linked; no
   match, two representatives, a closed account -> stopped, nothing linked, audited.
A FranceConnected account's own rules (password, unlink, origin) are in linked.py.
Functions flush, never commit.
"""
from __future__ import annotations

import secrets
from datetime import date

from flask import current_app
from sqlalchemy import or_, select, update

from ...audit import record
from ...db import db
from ...extensions import passwords, store
from ...models import (Account, AccountProfile, AccountState, DeclinedGuardianLink,
                       FranceConnectLink, GuardianLink, RecordGuardianLink as L,
                       RepresentativeRecord, utcnow)
from ...roster.names import allocate_identifier, fold
from ...security.sms_codes import (CodeProblem, SmsCodeError, check_code, send_code,
                                   withhold_code)
from ..signup.matching import ListedPupil, listed_pupils
from ..account.credentials import check_current_password
from .linked import link_of
from .state import LinkTransaction, StopReason

PURPOSE = "franceconnect"
HAS_ACCOUNT = (AccountState.active, AccountState.pending_email)
MAX_PASSWORD_FAILURES = 3


# --- 1. A known identity ----------------------------------------------------------

def linked_account(sub: str) -> tuple[FranceConnectLink, Account] | None:
    link = db.session.scalar(select(FranceConnectLink).where(FranceConnectLink.sub == sub))
    if link is None:
        return None
    account = db.session.get(Account, link.account_id)
    return (link, account) if account is not None else None


def note_use(link: FranceConnectLink) -> None:
    link.last_used_at = utcnow()
    db.session.flush()


# --- 2. The first link ------------------------------------------------------------

def records_holding(phone: str) -> list[int]:
    """Representative records holding that mobile, with at least one pupil."""
    R = RepresentativeRecord
    return list(db.session.scalars(
        select(R.id).where(R.phone == phone, R.id.in_(select(L.representative_record_id)))
        .order_by(R.id)))


def send_code_to(tx: LinkTransaction, locale: str = "fr"):
    """The code to the number (or withheld when no record holds it): SendOutcome."""
    tx.record_ids = records_holding(tx.phone)
    args = {"phone": tx.phone, "purpose": PURPOSE, "transaction": tx.id, "locale": locale}
    outcome = send_code(**args) if tx.record_ids else withhold_code(**args)
    if outcome.sent:
        tx.step = "code"
        tx.save()
        record("franceconnect_code_sent")
    return outcome


def verify_code(tx: LinkTransaction, code: str) -> None:
    """Raises SmsCodeError; a right code moves on to the pupils."""
    check_code(phone=tx.phone, purpose=PURPOSE, transaction=tx.id, code=code)
    if not tx.record_ids:  # a one-in-a-million guess of a withheld code
        raise SmsCodeError(CodeProblem.wrong, 0)
    record("franceconnect_phone_verified")
    tx.pupil_ids = [p.id for p in listed_pupils(tx.record_ids)]
    if store().get(f"signup-blocked:{tx.phone}"):  # J4's day-long block holds here too
        stop(tx, StopReason.birth_dates)
        return
    tx.step = "pupils"
    tx.save()


def pupils_of(tx: LinkTransaction) -> list[ListedPupil]:
    by_id = {p.id: p for p in listed_pupils(tx.record_ids)}
    return [by_id[i] for i in tx.pupil_ids if i in by_id]


def birth_date_matches(pupil: ListedPupil, value: date) -> bool:
    return pupil.birth_date == value


def count_birth_date_failure(tx: LinkTransaction) -> int:
    """One more wrong submission; the tries left (J4's limit), stopping at zero."""
    failures = store().incr(f"fc-birth:{tx.id}", max(tx.remaining(), 1))
    left = int(current_app.config["SIGNUP_BIRTH_DATE_MAX_FAILURES"]) - failures
    record("franceconnect_birth_date_failed", failures=failures)
    if left <= 0:
        store().set(f"signup-blocked:{tx.phone}", 1, 86400)
        stop(tx, StopReason.birth_dates)
    return max(left, 0)


def stop(tx: LinkTransaction, reason: StopReason) -> None:
    tx.step, tx.stop_reason = "stopped", StopReason(reason).value
    tx.save()
    record("franceconnect_link_refused", reason=tx.stop_reason)


def names_match(identity: dict, first_name: str, last_name: str) -> bool:
    """FranceConnect's names against a school record's, as J4 compares names (folded).
    FranceConnect gives every given name of the civil register ("Nadia Fatima"): the
    record may hold all of them or the first one."""
    if fold(identity["family_name"]) != fold(last_name) or not fold(last_name):
        return False
    given = identity["given_name"].split()
    wanted = fold(first_name)
    return bool(wanted) and wanted in (fold(identity["given_name"]), fold(given[0] if given else ""))


def decide(tx: LinkTransaction, pupils: list[ListedPupil], answers: dict, dates: dict):
    """Every birth date matched: who the FranceConnect identity is in the records.
    Returns the account to sign in (made or taken over), or None (the transaction moved
    on: to the password of an existing account, or stopped)."""
    tx.answers, tx.dates = answers, dates
    if linked_account(tx.identity["sub"]) is not None:  # linked meanwhile, elsewhere
        stop(tx, StopReason.already_linked)
        return None
    confirmed = {p.id for p in pupils if answers.get(str(p.id)) == "yes"}
    if not confirmed:
        stop(tx, StopReason.no_match)
        return None
    R = RepresentativeRecord
    rows = db.session.execute(
        select(R.id, R.academy_code, R.first_name, R.last_name, R.account_id, Account.state)
        .outerjoin(Account, Account.id == R.account_id)
        .where(R.id.in_(tx.record_ids),
               R.id.in_(select(L.representative_record_id)
                        .where(L.pupil_record_id.in_(confirmed))))
        .order_by(R.id)).all()
    same = [r for r in rows if names_match(tx.identity, r.first_name, r.last_name)]
    if not same:
        stop(tx, StopReason.no_match)
        return None
    accounts = {r.account_id for r in same if r.account_id is not None
                and r.state != AccountState.deleted}
    academies = [r.academy_code for r in same]
    if len(accounts) > 1 or len(academies) != len(set(academies)):
        stop(tx, StopReason.ambiguous)  # two people: the school must sort it out
        return None
    tx.record_ids = [r.id for r in same]
    holder = next((r for r in same if r.account_id in accounts), None)
    if holder is None:
        return create_account(tx, pupils)
    if holder.state == AccountState.deactivated:
        stop(tx, StopReason.deactivated)
        return None
    if db.session.scalar(select(FranceConnectLink.id).where(
            FranceConnectLink.account_id == holder.account_id)):
        stop(tx, StopReason.already_linked)
        return None
    if holder.state == AccountState.provisional:
        return take_over(tx, holder.account_id, pupils)
    tx.account_id, tx.step = holder.account_id, "password"
    tx.save()
    return None


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
    now = utcnow()
    won = db.session.execute(
        update(Account).where(Account.id == account_id,
                              Account.state == AccountState.provisional)
        .values(password_hash=placeholder, state=AccountState.active, activated_at=now,
                provisional_password_hash=None, phone=tx.phone, birth_date_failures=0,
                session_epoch=Account.session_epoch + 1),
        execution_options={"synchronize_session": False}).rowcount
    if won != 1:
        raise AlreadyLinked()
    account = db.session.get(Account, account_id, populate_existing=True)
    _pivot(account, tx.identity)
    _link_row(account, tx.identity, True, placeholder)
    _link_pupils(account, pupils, tx)
    record("franceconnect_linked", actor=account.identifier, mode="provisional")
    return account


def confirm_password(tx: LinkTransaction, password: str) -> Account | None:
    """The existing account's password: right -> linked (returned); wrong -> None, and
    the journey stops after MAX_PASSWORD_FAILURES."""
    account = db.session.get(Account, tx.account_id)
    if account is None or account.state not in HAS_ACCOUNT:
        stop(tx, StopReason.deactivated)
        return None
    if linked_account(tx.identity["sub"]) is not None or link_of(account) is not None:
        stop(tx, StopReason.already_linked)
        return None
    # Under the sign-in throttle (its counters are the account's): guessing here is no
    # cheaper than on the sign-in page.
    if not check_current_password(account, password):
        failures = store().incr(f"fc-password:{tx.id}", max(tx.remaining(), 1))
        record("franceconnect_password_failed", actor=account.identifier)
        if failures >= MAX_PASSWORD_FAILURES:
            stop(tx, StopReason.password)
        return None
    _pivot(account, tx.identity)
    _link_row(account, tx.identity, False, None)
    _link_pupils(account, pupils_of(tx), tx)
    record("franceconnect_linked", actor=account.identifier, mode="existing")
    return account


def identifier_of(tx: LinkTransaction) -> str | None:
    account = db.session.get(Account, tx.account_id) if tx.account_id else None
    return account.identifier if account else None
