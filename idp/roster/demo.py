"""Demo data for J3: a family imported from a tiny roster, the parent's letter re-issued
at every `idp demo load` so a person can try the first connection (again)."""
from __future__ import annotations

from sqlalchemy import select

from ..db import db
from ..models import PupilRecord, RecordGuardianLink, RepresentativeRecord, School
from .importer import import_roster
from .letters import issue_letters

DEMO_ROSTER = ("ine;nom;prenom;date_naissance;classe;resp1_nom;resp1_prenom;resp1_telephone;"
               "resp1_email\n"
               "0987654321J;Petit;Lucas;20/05/2013;5e C;Petit;Jeanne;06 11 22 33 44;\n")
DEMO_PUPIL_BIRTH_DATE = "20/05/2013"
DEMO_INE = "0987654321J"


def load_demo_letters(school: School) -> list[dict]:
    """Import the demo family (idempotent) and issue fresh letters to the parent and the
    pupil: their provisional passwords, and the birth date the form asks for."""
    import_roster(school.uai, DEMO_ROSTER.encode(), actor="demo", file_name="demo.csv")
    pupil = db.session.scalar(select(PupilRecord).where(PupilRecord.national_id == DEMO_INE))
    reps = db.session.scalars(select(RepresentativeRecord.account_id).join(
        RecordGuardianLink, RecordGuardianLink.representative_record_id == RepresentativeRecord.id)
        .where(RecordGuardianLink.pupil_record_id == pupil.id)).all()
    out = []
    for account_id in [*reps, pupil.account_id]:
        letter = issue_letters(school, account_ref=str(account_id), actor="demo").letters[0]
        out.append({"identifier": letter.account.identifier, "password": letter.password,
                    "profile": letter.account.profile.value, "provisional": True,
                    "birth_date_to_enter": DEMO_PUPIL_BIRTH_DATE})
    return out
