"""J4 "Je n'ai pas de compte" [seed 003]: the rules; views.py only parses and renders.

1. `begin`: names + mobile -> the records are searched and a code is sent by SMS, or,
   when nothing matches, withheld (same limits, same page, no SMS); a person who already
   has an account gets their identifier by SMS instead. Nothing on the page differs.
2. `verify_code`: the SMS code (idp/security/sms_codes.py).
3. `answer_pupils`: "Je suis / Je ne suis pas le représentant légal" and each linked
   pupil's birth date; wrong dates are counted per transaction and, at the limit, the
   journey stops (the school must check its data); declined links are recorded.
4. `create_account`: the account, atomically: the representative record's account link
   is set by a conditional UPDATE (`account_id IS NULL`), a provisional account is taken
   over by one (`state = 'provisional'`), so a double submit or two browsers racing make
   one account; the loser gets AlreadyRegistered and nothing it wrote stays.
Functions flush, never commit.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update

from ...audit import record
from ...db import db
from ...extensions import passwords
from ...models import (Account, AccountProfile, AccountState, DeclinedGuardianLink,
                       GuardianLink, RepresentativeRecord, utcnow)
from ...notify import external_url, queue_sms
from ...roster.names import allocate_identifier, identifier_stem
from ...security.passwords import policy_problems
from ...security.sms_codes import (CodeProblem, SendOutcome, SmsCodeError, check_code,
                                  send_code, withhold_code)
from . import provisional
from .. import birth_dates
from .matching import ListedPupil, MatchOutcome, find_family, listed_pupils, pupils_of
from .state import SignupTransaction, StopReason

PURPOSE = "signup"


class AlreadyRegistered(Exception):
    """Another request made the account first (double submit, two browsers)."""


def _existing_account_sms(identifier: str) -> tuple[str, dict]:
    return "signup_existing_account", {"identifier": identifier,
                                       "login_url": external_url("login.form")}


def _send(tx: SignupTransaction, locale: str) -> SendOutcome:
    """The code, the identifier (existing account) or nothing (no match): same limits."""
    args = {"phone": tx.phone, "purpose": PURPOSE, "transaction": tx.id, "locale": locale}
    if tx.outcome.makes_account:
        return send_code(**args)
    if tx.outcome is MatchOutcome.existing:
        return withhold_code(**args, instead=_existing_account_sms(tx.identifier))
    return withhold_code(**args)


def begin(tx: SignupTransaction, locale: str = "fr") -> SendOutcome:
    """Match the details and send (or withhold) the first SMS; the transaction is saved
    only when the SMS limits let it start."""
    match = find_family(tx.first_name, tx.last_name, tx.phone)
    tx.outcome, tx.record_ids = match.outcome, match.record_ids
    tx.account_id, tx.identifier = match.account_id, match.identifier
    outcome = _send(tx, locale)
    if outcome.sent:
        tx.save()
        record("signup_started")
    return outcome


def resend(tx: SignupTransaction, locale: str = "fr") -> SendOutcome:
    """"Renvoyer le SMS": a new code (the older one stops working), within the limits."""
    return _send(tx, locale)


def verify_code(tx: SignupTransaction, code: str) -> None:
    """Check the typed code; raises SmsCodeError. Details that matched nothing (or an
    account that exists) never get past this step: their code was never sent."""
    check_code(phone=tx.phone, purpose=PURPOSE, transaction=tx.id, code=code)
    if not tx.outcome.makes_account:  # a one-in-a-million guess of a withheld code
        raise SmsCodeError(CodeProblem.wrong, 0)
    record("signup_phone_verified")
    tx.pupil_ids = [p.id for p in listed_pupils(tx.record_ids)]
    if birth_dates.stop_if_blocked(tx):  # a new transaction brings no new tries
        return
    tx.step = "pupils"
    tx.save()


def count_birth_date_failure(tx: SignupTransaction) -> int:
    """One more wrong submission (journeys/birth_dates.py): the tries left; at zero the
    journey stops and, for a day, a new transaction (a new SMS) brings no new tries."""
    return birth_dates.count_journey_failure(tx, "signup-birth", "signup_birth_date_failed")


def _representatives(tx: SignupTransaction) -> list[RepresentativeRecord]:
    rows = db.session.scalars(select(RepresentativeRecord).where(
        RepresentativeRecord.id.in_(tx.record_ids))).all()
    order = {rid: n for n, rid in enumerate(tx.record_ids)}
    return sorted(rows, key=lambda r: order[r.id])


def _sync_declines(tx: SignupTransaction, pupils: list[ListedPupil], answers: dict,
                   account_id: int | None = None) -> None:
    """Record "Je ne suis pas le représentant légal" for the school; a later "Je suis"
    (after "Précédent") takes it back."""
    D = DeclinedGuardianLink
    record_id = tx.record_ids[0]
    declined = [p for p in pupils if answers.get(str(p.id)) == "no"]
    confirmed = [p.id for p in pupils if answers.get(str(p.id)) == "yes"]
    if confirmed:
        db.session.execute(delete(D).where(D.representative_record_id.in_(tx.record_ids),
                                           D.pupil_record_id.in_(confirmed)),
                           execution_options={"synchronize_session": False})
    existing = {row.pupil_record_id: row for row in db.session.scalars(select(D).where(
        D.representative_record_id == record_id))}
    for pupil in declined:
        row = existing.get(pupil.id)
        if row is None:
            db.session.add(D(representative_record_id=record_id, pupil_record_id=pupil.id,
                             school_id=pupil.school_id, account_id=account_id))
            record("guardian_link_declined", target=f"pupil_record:{pupil.id}")
        elif account_id is not None:
            row.account_id = account_id
    db.session.flush()


def accept_pupils(tx: SignupTransaction, pupils: list[ListedPupil], answers: dict,
                  dates: dict) -> None:
    """Answers whose birth dates all matched: declines recorded, on to the password (or
    stop when the person is the representative of none of the pupils)."""
    tx.answers, tx.dates = answers, dates
    _sync_declines(tx, pupils, answers)
    if not any(v == "yes" for v in answers.values()):
        tx.stop(StopReason.no_pupil)
        return
    tx.step = "password"
    tx.save()


def forbidden_words(tx: SignupTransaction, pupils: list[ListedPupil]) -> tuple[str, ...]:
    words = [tx.first_name, tx.last_name, identifier_stem(tx.first_name, tx.last_name),
             tx.identifier or ""]
    for p in pupils:
        d = p.birth_date
        words += [d.strftime("%d%m%Y"), d.strftime("%d%m%y"), d.strftime("%Y%m%d"),
                  d.strftime("%d/%m/%Y"), p.first_name]
    return tuple(words)


def password_problems(tx: SignupTransaction, pupils: list[ListedPupil],
                      password: str) -> list[str]:
    return [str(p) for p in policy_problems(password, forbidden=forbidden_words(tx, pupils))]


def create_account(tx: SignupTransaction, password: str, locale: str = "fr") -> Account:
    """Make (or take over) the account, link the confirmed pupils. Raises
    AlreadyRegistered when another request won; then nothing of this one stays."""
    hashed = passwords().hash(password)  # before any lock: argon2 takes a while
    pupils = pupils_of(tx)
    now = utcnow()
    if tx.outcome is MatchOutcome.adopt:
        account = _take_over(tx, hashed, now)
    else:
        account = _make(tx, pupils, hashed, now, locale)
    _link(account, pupils, tx.answers)
    _sync_declines(tx, pupils, tx.answers, account.id)
    record("signup_completed", actor=account.identifier, mode=tx.outcome.value,
           linked=sum(1 for v in tx.answers.values() if v == "yes"),
           declined=sum(1 for v in tx.answers.values() if v == "no"))
    return account


def _make(tx, pupils, hashed: str, now: datetime, locale: str) -> Account:
    rep = _representatives(tx)[0]
    R = RepresentativeRecord
    free = or_(R.account_id.is_(None), R.account_id.in_(
        select(Account.id).where(Account.state == AccountState.deleted)))
    # Claim the record first: this write takes the row (PostgreSQL) or the database
    # (SQLite) until commit, so a concurrent creator waits here, then finds it taken.
    claimed = db.session.execute(update(R).where(R.id == rep.id, free).values(updated_at=now),
                                 execution_options={"synchronize_session": False}).rowcount
    if claimed != 1:
        raise AlreadyRegistered()
    linked = [p for p in pupils if tx.answers.get(str(p.id)) == "yes"]
    identifier = allocate_identifier(rep.first_name, rep.last_name)
    account = Account(identifier=identifier, password_hash=hashed,
                      profile=AccountProfile.parent, state=AccountState.active,
                      academy_code=rep.academy_code, first_name=rep.first_name,
                      last_name=rep.last_name, email=rep.email, email_verified=False,
                      phone=tx.phone, school_id=linked[0].school_id if linked else None,
                      locale=locale, created_at=now, activated_at=now)
    db.session.add(account)
    db.session.flush()
    won = db.session.execute(update(R).where(R.id == rep.id, free)
                             .values(account_id=account.id),
                             execution_options={"synchronize_session": False}).rowcount
    if won != 1:  # cannot happen after the claim; never leave a second account behind
        db.session.delete(account)
        db.session.flush()
        raise AlreadyRegistered()
    return account


def _take_over(tx, hashed: str, now: datetime) -> Account:
    """The school had issued a provisional account (its letter lost or never read): the
    verified phone activates it, with its identifier."""
    account = provisional.activate(tx.account_id, hashed, tx.phone, now)
    if account is None:
        raise AlreadyRegistered()
    return account


def _link(account: Account, pupils: list[ListedPupil], answers: dict) -> None:
    """Account-level links (what relying parties see): the confirmed pupils only."""
    G = GuardianLink
    confirmed = {p.account_id for p in pupils if answers.get(str(p.id)) == "yes"
                 and p.account_id}
    declined = [p.account_id for p in pupils if answers.get(str(p.id)) == "no"
                and p.account_id]
    if declined:
        db.session.execute(delete(G).where(G.guardian_id == account.id,
                                           G.pupil_id.in_(declined)),
                           execution_options={"synchronize_session": False})
    have = set(db.session.scalars(select(G.pupil_id).where(G.guardian_id == account.id)))
    for pupil_id in sorted(confirmed - have):
        db.session.add(G(guardian_id=account.id, pupil_id=pupil_id))
    db.session.flush()


def identifier_after_race(tx: SignupTransaction) -> str | None:
    """The account another request made for these records (to send its identifier)."""
    R = RepresentativeRecord
    return db.session.scalar(select(Account.identifier).join(R, R.account_id == Account.id)
                             .where(R.id.in_(tx.record_ids)))


def send_identifier(tx: SignupTransaction, identifier: str, locale: str = "fr") -> None:
    """The phone is verified: tell it the identifier of the account that already exists."""
    template, context = _existing_account_sms(identifier)
    queue_sms(to=tx.phone, template=template, context=context, locale=locale)
