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
from ...models import FranceConnectLink, RepresentativeRecord
from ...security.sms_codes import wait_key
from ..signup.demo import PARENT, demo_pupil, demo_representative, link_demo_records
from .service import PURPOSE

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


def load_franceconnect_demo() -> dict:
    """The accented family (new again if it was linked). Flushes, never commits."""
    _forget_links(ACCENTS["phone"])  # linked before: the family is new again
    link_demo_records(demo_pupil(ACCENTS_CHILD), demo_representative(ACCENTS))
    db.session.flush()
    phone = ACCENTS["phone"]
    store().delete(f"sms-number:{phone}", f"signup-blocked:{phone}", wait_key(phone, PURPOSE),
                   f"sms-sent:{phone}:{PURPOSE}")
    return {"identity": "HÉLÈNE JOSÉPHINE LE GALL-HERVÉ", "mobile": "06 45 67 89 12",
            "birth_dates": {"Lou": "03/02/2014"}}
