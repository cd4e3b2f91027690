"""The FranceConnect demo (`idp demo load`, `make run`).

- Loading the demo again makes Nadia Benali new again for sign-up (journeys/signup/
  demo.py deactivates and detaches the account made earlier); her FranceConnect link goes
  with it, so that « S'identifier avec FranceConnect » as Nadia asks for the first link.
- A second family for the stand-in's identity with accented, hyphenated names in capitals
  ("HÉLÈNE JOSÉPHINE" "LE GALL-HERVÉ"): the school wrote « Hélène » « Le Gall-Hervé »,
  mobile 06 45 67 89 12, one child, Lou, born 03/02/2014 at the Collège Jean Moulin.
  Reloading the demo makes that family new again too.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from ...db import db
from ...extensions import store
from ...models import (Account, AccountProfile, AccountState, FranceConnectLink,
                       GuardianLink, PupilRecord, RecordGuardianLink, RepresentativeRecord,
                       School)
from ...roster.credentials import locked_password_hash
from ...roster.names import allocate_identifier, fold_words
from ...security.sms_codes import wait_key
from ..signup.demo import PARENT
from .service import PURPOSE

ACADEMY = "nancy-metz"
ACCENTS = {"first_name": "Hélène", "last_name": "Le Gall-Hervé", "phone": "+33645678912"}
ACCENTS_CHILD = {"national_id": "0987654330S", "first_name": "Lou",
                 "last_name": "Le Gall-Hervé", "birth_date": date(2014, 2, 3),
                 "class_name": "6e A", "school": "0540042A"}


def _forget_links(phone: str) -> None:
    accounts = select(RepresentativeRecord.account_id).where(
        RepresentativeRecord.phone == phone, RepresentativeRecord.account_id.is_not(None))
    db.session.execute(delete(FranceConnectLink).where(
        FranceConnectLink.account_id.in_(accounts)),
        execution_options={"synchronize_session": False})


def reset_franceconnect_demo() -> None:
    """Before load_signup_demo. Flushes, never commits."""
    _forget_links(PARENT["phone"])
    db.session.flush()


def _accents_child(school: School) -> PupilRecord:
    spec = ACCENTS_CHILD
    record = db.session.scalar(select(PupilRecord).where(
        PupilRecord.national_id == spec["national_id"]))
    if record is not None:
        return record
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


def load_franceconnect_demo() -> dict:
    """The accented family (new again if it was linked). Flushes, never commits."""
    school = db.session.scalar(select(School).where(School.uai == ACCENTS_CHILD["school"]))
    key = f"{fold_words(ACCENTS['last_name'])}|{fold_words(ACCENTS['first_name'])}|" \
          f"{ACCENTS['phone']}"
    rep = db.session.scalar(select(RepresentativeRecord).where(
        RepresentativeRecord.academy_code == ACADEMY, RepresentativeRecord.match_key == key))
    if rep is None:
        rep = RepresentativeRecord(academy_code=ACADEMY, match_key=key, **ACCENTS)
        db.session.add(rep)
        db.session.flush()
    elif rep.account_id is not None:  # linked before: the family is new again
        _forget_links(ACCENTS["phone"])
        old = db.session.get(Account, rep.account_id)
        db.session.execute(delete(GuardianLink).where(GuardianLink.guardian_id == old.id))
        old.state, old.session_epoch = AccountState.deactivated, old.session_epoch + 1
        rep.account_id = None
    child = _accents_child(school)
    if not db.session.scalar(select(RecordGuardianLink.id).where(
            RecordGuardianLink.pupil_record_id == child.id,
            RecordGuardianLink.representative_record_id == rep.id)):
        db.session.add(RecordGuardianLink(pupil_record_id=child.id,
                                          representative_record_id=rep.id))
    db.session.flush()
    phone = ACCENTS["phone"]
    store().delete(f"sms-number:{phone}", f"signup-blocked:{phone}", wait_key(phone, PURPOSE),
                   f"sms-sent:{phone}:{PURPOSE}")
    return {"identity": "HÉLÈNE JOSÉPHINE LE GALL-HERVÉ", "mobile": "06 45 67 89 12",
            "birth_dates": {"Lou": "03/02/2014"}}
