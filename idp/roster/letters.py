"""Notification letters: choose the accounts, issue fresh provisional passwords, print.

Issuing a letter replaces the previous provisional password (and any chosen one), starts a
new activation window, ends the account's sessions and unused activation links: the last
letter handed out is the only one that works. For an account in use (not provisional) its
sessions end everywhere, relying parties told, as with a new password
(signin.account_sessions, which registers itself in SESSION_ENDERS: it is a layer above).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import insert, or_, select, update

from ..db import db
from ..extensions import academies
from ..local_time import to_paris
from ..models import (Account, AccountState, AuditEvent, OneTimeToken, PupilRecord,
                      RecordGuardianLink, RefreshToken, RepresentativeRecord, School, utcnow)
from .credentials import hash_provisional, locked_password_hash, new_provisional_password
from .pdf import render_letters

ISSUABLE = (AccountState.provisional,)
# What ends every session of an account in use, relying parties told and tokens revoked:
# signin.account_sessions adds itself (the engine is a layer above the roster).
SESSION_ENDERS: list = []


class LetterError(ValueError):
    pass


@dataclass
class Letter:
    account: Account
    password: str
    deadline: datetime
    pupils: list[dict] = field(default_factory=list)  # for a parent: name and class


@dataclass
class LetterBatch:
    school: School
    letters: list[Letter]
    pdf: bytes

    def summary(self) -> dict:
        return {"school": self.school.uai, "letters": len(self.letters),
                "accounts": [{"identifier": l.account.identifier, "id": l.account.id,
                              "profile": l.account.profile.value,
                              "deadline": to_paris(l.deadline).date().isoformat()}
                             for l in self.letters]}


def _school_pupils(school: School, class_name: str | None):
    stmt = select(PupilRecord).where(PupilRecord.school_id == school.id)
    if class_name:
        stmt = stmt.where(PupilRecord.class_name == class_name)
    return db.session.scalars(stmt.order_by(PupilRecord.class_name, PupilRecord.last_name,
                                            PupilRecord.first_name)).all()


def _pupils_of_reps(rep_account_ids: list[int], school: School) -> dict[int, list[dict]]:
    """rep account id -> the pupils of this school they are responsible for."""
    out: dict[int, list[dict]] = {}
    for chunk_start in range(0, len(rep_account_ids), 1000):
        chunk = rep_account_ids[chunk_start:chunk_start + 1000]
        rows = db.session.execute(
            select(RepresentativeRecord.account_id, PupilRecord.first_name,
                   PupilRecord.last_name, PupilRecord.class_name)
            .join(RecordGuardianLink,
                  RecordGuardianLink.representative_record_id == RepresentativeRecord.id)
            .join(PupilRecord, PupilRecord.id == RecordGuardianLink.pupil_record_id)
            .where(RepresentativeRecord.account_id.in_(chunk),
                   PupilRecord.school_id == school.id)
            .order_by(PupilRecord.first_name)).all()
        for account_id, first, last, class_name in rows:
            out.setdefault(account_id, []).append(
                {"name": f"{first} {last}", "class_name": class_name})
    return out


def select_accounts(school: School, class_name: str | None = None,
                    account_ref: str | None = None) -> list[Account]:
    """The school's accounts to write to: still provisional pupils (of a class) and their
    representatives; or the one account named (any state but deleted), which must belong
    to this school."""
    pupils = _school_pupils(school, class_name)
    pupil_record_ids = [p.id for p in pupils]
    rep_ids = []
    for start in range(0, len(pupil_record_ids), 1000):
        rep_ids += db.session.scalars(
            select(RepresentativeRecord.account_id)
            .join(RecordGuardianLink,
                  RecordGuardianLink.representative_record_id == RepresentativeRecord.id)
            .where(RecordGuardianLink.pupil_record_id.in_(pupil_record_ids[start:start + 1000]),
                   RepresentativeRecord.account_id.is_not(None))).all()
    ids = [p.account_id for p in pupils if p.account_id] + sorted(set(rep_ids))
    if account_ref:
        wanted = _find_account(account_ref)
        if wanted is None or wanted.id not in set(ids) or wanted.state == AccountState.deleted:
            raise LetterError(f"no account {account_ref!r} in school {school.uai}")
        return [wanted]
    accounts = []
    for start in range(0, len(ids), 1000):
        accounts += db.session.scalars(select(Account).where(
            Account.id.in_(ids[start:start + 1000]), Account.state.in_(ISSUABLE))).all()
    order = {account_id: n for n, account_id in enumerate(ids)}
    return sorted(accounts, key=lambda a: order[a.id])


def _find_account(ref: str) -> Account | None:
    ref = ref.strip()
    if ref.isdigit():
        return db.session.get(Account, int(ref))
    return db.session.scalar(select(Account).where(Account.identifier == ref.lower()))


def issue_credentials(accounts: list[Account], *, actor: str | None = None,
                      now: datetime | None = None) -> list[Letter]:
    """A new provisional password and activation window for each account (flushes)."""
    now = now or utcnow()
    deadline = now + timedelta(days=int(current_app.config["ACTIVATION_WINDOW_DAYS"]))
    locked = locked_password_hash()
    letters = []
    for account in accounts:
        in_use = account.state != AccountState.provisional
        password = new_provisional_password()
        letters.append(Letter(account, password, deadline))
        account.password_hash = locked
        account.provisional_password_hash = hash_provisional(password)
        account.state = AccountState.provisional
        account.issued_at, account.activation_deadline = now, deadline
        account.birth_date_failures = 0
        account.reminder_sent_at = account.deactivated_at = None
        # A confirmed address stays confirmed: the new letter is about the password.
        if in_use and SESSION_ENDERS:
            for end in SESSION_ENDERS:
                end(account)  # the epoch, back-channel logout, every token
        else:  # a provisional account's sessions (the letter's) never reached an RP
            account.session_epoch = (account.session_epoch or 0) + 1  # ends its sessions
    if not accounts:
        return letters
    db.session.flush()
    ids = [a.id for a in accounts]
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        db.session.execute(update(OneTimeToken).where(
            OneTimeToken.account_id.in_(chunk), OneTimeToken.used_at.is_(None),
            OneTimeToken.revoked_at.is_(None)).values(revoked_at=now),
            execution_options={"synchronize_session": False})
        db.session.execute(update(RefreshToken).where(
            RefreshToken.account_id.in_(chunk), or_(RefreshToken.revoked.is_(False)))
            .values(revoked=True), execution_options={"synchronize_session": False})
    db.session.execute(insert(AuditEvent), [
        {"at": now, "action": "credentials_issued", "actor": actor, "target": a.identifier,
         "details": {"deadline": to_paris(deadline).date().isoformat()}} for a in accounts])
    return letters


def issue_letters(school: School, *, class_name: str | None = None,
                  account_ref: str | None = None, actor: str | None = None,
                  now: datetime | None = None, today: date | None = None) -> LetterBatch:
    """Select, issue and print: one PDF page per account. Flushes; the caller commits
    only once the PDF is safely written."""
    accounts = select_accounts(school, class_name, account_ref)
    letters = issue_credentials(accounts, actor=actor, now=now)
    pupils = _pupils_of_reps([l.account.id for l in letters
                              if l.account.profile.value == "parent"], school)
    for letter in letters:
        letter.pupils = pupils.get(letter.account.id, [])
    pdf = render_letters(letters, school=school,
                         academy_name=academies().get(school.academy_code, school.academy_code),
                         sign_in_url=current_app.config["BASE_URL"] + "/",
                         today=today or to_paris(now or utcnow()).date())
    return LetterBatch(school, letters, pdf)
