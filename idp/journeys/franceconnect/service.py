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
   What a decided link writes (the account, the link, the pupils) is in accounts.py.
A FranceConnected account's own rules (password, unlink, origin) are in linked.py.
Functions flush, never commit.
"""
from __future__ import annotations

from sqlalchemy import select

from ...audit import record
from ...db import db
from ...extensions import store
from ...models import (Account, AccountState, FranceConnectLink,
                       RecordGuardianLink as L, RepresentativeRecord, utcnow)
from ...roster.names import fold
from ...security.sms_codes import (CodeProblem, SmsCodeError, check_code, send_code,
                                   withhold_code)
from .. import birth_dates
from ..signup.matching import ListedPupil, listed_pupils, pupils_of
from ..account.credentials import CurrentPassword, check_current_password
from .accounts import create_account, link_existing, take_over
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
    if birth_dates.stop_if_blocked(tx):  # J4's day-long block holds here too
        return
    tx.step = "pupils"
    tx.save()


def count_birth_date_failure(tx: LinkTransaction) -> int:
    """One more wrong submission; the tries left (J4's limit and day-long block,
    journeys/birth_dates.py), stopping at zero."""
    return birth_dates.count_journey_failure(tx, "fc-birth", "franceconnect_birth_date_failed")


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
        tx.stop(StopReason.already_linked)
        return None
    confirmed = {p.id for p in pupils if answers.get(str(p.id)) == "yes"}
    if not confirmed:
        tx.stop(StopReason.no_match)
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
        tx.stop(StopReason.no_match)
        return None
    accounts = {r.account_id for r in same if r.account_id is not None
                and r.state != AccountState.deleted}
    academies = [r.academy_code for r in same]
    if len(accounts) > 1 or len(academies) != len(set(academies)):
        tx.stop(StopReason.ambiguous)  # two people: the school must sort it out
        return None
    tx.record_ids = [r.id for r in same]
    holder = next((r for r in same if r.account_id in accounts), None)
    if holder is None:
        return create_account(tx, pupils)
    if holder.state == AccountState.deactivated:
        tx.stop(StopReason.deactivated)
        return None
    if db.session.scalar(select(FranceConnectLink.id).where(
            FranceConnectLink.account_id == holder.account_id)):
        tx.stop(StopReason.already_linked)
        return None
    if holder.state == AccountState.provisional:
        return take_over(tx, holder.account_id, pupils)
    tx.account_id, tx.step = holder.account_id, "password"
    tx.save()
    return None


def confirm_password(tx: LinkTransaction, password: str) -> Account | CurrentPassword | None:
    """The existing account's password: right -> linked (the account returned); wrong or
    the throttle holding -> what the check found (its `throttled()` message), and the
    journey stops after MAX_PASSWORD_FAILURES wrong ones; None when the journey stopped."""
    account = db.session.get(Account, tx.account_id)
    if account is None or account.state not in HAS_ACCOUNT:
        tx.stop(StopReason.deactivated)
        return None
    if linked_account(tx.identity["sub"]) is not None or link_of(account) is not None:
        tx.stop(StopReason.already_linked)
        return None
    # Under the sign-in throttle (its counters are the account's): guessing here is no
    # cheaper than on the sign-in page.
    checked = check_current_password(account, password)
    if checked.pause:
        return checked  # the throttle held: nothing was checked, nothing counts
    if not checked:
        failures = store().incr(f"fc-password:{tx.id}", max(tx.remaining(), 1))
        record("franceconnect_password_failed", actor=account.identifier)
        if failures >= MAX_PASSWORD_FAILURES:
            tx.stop(StopReason.password)
            return None
        return checked
    return link_existing(tx, account, pupils_of(tx))


def identifier_of(tx: LinkTransaction) -> str | None:
    account = db.session.get(Account, tx.account_id) if tx.account_id else None
    return account.identifier if account else None
