"""`idp signup declined --uai X`: the links families declined at sign-up (J4), for the
school. Attached to the `idp` group in idp/cli.py. A report on the school records, with
the other commands: the journeys stay free of the command line (and of create_app)."""
from __future__ import annotations

import click
from sqlalchemy import select

from ..cli_helpers import app_context, emit
from ..db import db
from ..models import DeclinedGuardianLink, PupilRecord, RepresentativeRecord, School


@click.group()
def signup():
    """Self-registration (J4)."""


@signup.command("declined")
@click.option("--uai", required=True, help="School code, e.g. 0540042A.")
@click.option("--json", "as_json", is_flag=True)
def declined(uai, as_json):
    """Pupils of a school whose representative said "Je ne suis pas le représentant
    légal de cet élève": the school should check its records."""
    with app_context():
        D, P, R = DeclinedGuardianLink, PupilRecord, RepresentativeRecord
        rows = db.session.execute(
            select(D.declined_at, P.national_id, P.first_name, P.last_name, P.class_name,
                   R.first_name.label("rep_first"), R.last_name.label("rep_last"))
            .join(P, P.id == D.pupil_record_id).join(R, R.id == D.representative_record_id)
            .join(School, School.id == D.school_id).where(School.uai == uai.upper())
            .order_by(D.declined_at.desc())).all()
        out = [{"declined_at": r.declined_at.isoformat(), "pupil_ine": r.national_id,
                "pupil": f"{r.first_name} {r.last_name}", "class": r.class_name,
                "representative": f"{r.rep_first} {r.rep_last}"} for r in rows]
        text = "\n".join(f"{o['declined_at'][:16]}  {o['pupil']} ({o['class']}): "
                         f"{o['representative']} n'est pas le représentant légal"
                         for o in out) or "aucun lien refusé"
        emit({"uai": uai.upper(), "declined": out}, as_json, text)
