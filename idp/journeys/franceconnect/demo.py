"""The FranceConnect demo (`idp demo load`, `make run`): loading the demo again makes
Nadia Benali new again for sign-up (journeys/signup/demo.py deactivates and detaches the
account made earlier); her FranceConnect link goes with it, so that « S'identifier avec
FranceConnect » as Nadia in the stand-in asks for the first link again."""
from __future__ import annotations

from sqlalchemy import delete, select

from ...db import db
from ...models import FranceConnectLink, RepresentativeRecord
from ..signup.demo import PARENT


def reset_franceconnect_demo() -> None:
    """Before load_signup_demo. Flushes, never commits."""
    accounts = select(RepresentativeRecord.account_id).where(
        RepresentativeRecord.phone == PARENT["phone"],
        RepresentativeRecord.account_id.is_not(None))
    db.session.execute(delete(FranceConnectLink).where(
        FranceConnectLink.account_id.in_(accounts)),
        execution_options={"synchronize_session": False})
    db.session.flush()
