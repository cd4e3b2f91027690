"""Demo data for J4 (`idp demo load`, `make run`): a parent the schools know, with a
mobile number and two children in two schools of the academy, but no account yet.

Try it: /inscription with « Benali », « Nadia », 06 12 34 56 78; the code is on
/dev/outbox; birth dates 12/10/2013 (Yanis) and 04/07/2010 (Sarah). Loading the demo
again makes the family new again: an account made with it earlier is deactivated and
detached from the record, and the day's SMS limits of the number are lifted.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from ...db import db
from ...extensions import store
from ...models import (Account, AccountProfile, AccountState, GuardianLink, PupilRecord,
                       RecordGuardianLink, RepresentativeRecord, School)
from ...roster.credentials import locked_password_hash
from ...roster.names import allocate_identifier, fold_words
from ...security.sms_codes import wait_key
from ...signin.account_sessions import end_account_sessions
from .service import PURPOSE

ACADEMY = "nancy-metz"
PARENT = {"first_name": "Nadia", "last_name": "Benali", "phone": "+33612345678"}
LYCEE = {"uai": "0540038W", "name": "Lycée Henri Poincaré", "academy_code": ACADEMY}
PUPILS = (
    {"national_id": "0987654322K", "first_name": "Yanis", "last_name": "Benali",
     "birth_date": date(2013, 10, 12), "class_name": "5e B", "school": "0540042A"},
    {"national_id": "0987654323L", "first_name": "Sarah", "last_name": "Benali",
     "birth_date": date(2010, 7, 4), "class_name": "2de 3", "school": "0540038W"},
)


def _school(uai: str) -> School:
    school = db.session.scalar(select(School).where(School.uai == uai))
    if school is None and uai == LYCEE["uai"]:
        school = School(**LYCEE)
        db.session.add(school)
        db.session.flush()
    return school


def demo_pupil(spec: dict) -> PupilRecord:
    """The pupil record of `spec` (national id, names, birth date, class, school UAI) and
    its provisional account, made once (the FranceConnect demo's child too)."""
    record = db.session.scalar(select(PupilRecord).where(
        PupilRecord.national_id == spec["national_id"]))
    if record is not None:
        return record
    school = _school(spec["school"])
    account = Account(identifier=allocate_identifier(spec["first_name"], spec["last_name"]),
                      password_hash=locked_password_hash(), profile=AccountProfile.pupil,
                      state=AccountState.provisional, academy_code=ACADEMY,
                      first_name=spec["first_name"], last_name=spec["last_name"],
                      birth_date=spec["birth_date"], class_name=spec["class_name"],
                      school_id=school.id)
    db.session.add(account)
    db.session.flush()
    record = PupilRecord(national_id=spec["national_id"], school_id=school.id,
                         first_name=spec["first_name"], last_name=spec["last_name"],
                         birth_date=spec["birth_date"], class_name=spec["class_name"],
                         account_id=account.id)
    db.session.add(record)
    db.session.flush()
    return record


def demo_representative(spec: dict) -> RepresentativeRecord:
    """The representative record of `spec` (names, mobile), made or made new again: an
    account a former try made for it is deactivated and detached from the record."""
    key = f"{fold_words(spec['last_name'])}|{fold_words(spec['first_name'])}|{spec['phone']}"
    rep = db.session.scalar(select(RepresentativeRecord).where(
        RepresentativeRecord.academy_code == ACADEMY, RepresentativeRecord.match_key == key))
    if rep is None:
        rep = RepresentativeRecord(academy_code=ACADEMY, match_key=key, **spec)
        db.session.add(rep)
        db.session.flush()
    elif rep.account_id is not None:  # tried before: the family is new again
        old = db.session.get(Account, rep.account_id)
        db.session.execute(delete(GuardianLink).where(GuardianLink.guardian_id == old.id))
        old.state = AccountState.deactivated
        end_account_sessions(old, reason="demo_reset")  # a try may have reached the RPs
        rep.account_id = None
    return rep


def link_demo_records(pupil: PupilRecord, rep: RepresentativeRecord) -> None:
    if not db.session.scalar(select(RecordGuardianLink.id).where(
            RecordGuardianLink.pupil_record_id == pupil.id,
            RecordGuardianLink.representative_record_id == rep.id)):
        db.session.add(RecordGuardianLink(pupil_record_id=pupil.id,
                                          representative_record_id=rep.id))


def load_signup_demo() -> dict:
    """Create (or make new again) the J4 demo family. Flushes, never commits."""
    rep = demo_representative(PARENT)
    for spec in PUPILS:
        link_demo_records(demo_pupil(spec), rep)
    db.session.flush()
    store().delete(*(f"{prefix}:{PARENT['phone']}" for prefix in
                     ("sms-number", "signup-blocked")),
                   wait_key(PARENT["phone"], PURPOSE), f"sms-sent:{PARENT['phone']}:{PURPOSE}")
    return {"last_name": PARENT["last_name"], "first_name": PARENT["first_name"],
            "mobile": "06 12 34 56 78",
            "birth_dates": {p["first_name"]: p["birth_date"].strftime("%d/%m/%Y")
                            for p in PUPILS}}
