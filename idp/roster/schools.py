"""Schools known to the IdP (created before their first roster import)."""
from __future__ import annotations

import re

from sqlalchemy import select

from ..db import db
from ..extensions import academies
from ..models import Academy, School

UAI = re.compile(r"^[0-9]{7}[A-Z]$")


class SchoolError(ValueError):
    pass


def upsert_school(uai: str, name: str, academy: str, level: str = "2d") -> School:
    """Create or update a school by its UAI (flushes)."""
    uai = uai.strip().upper()
    if not UAI.match(uai):
        raise SchoolError(f"invalid UAI {uai!r} (7 digits and a letter, e.g. 0540042A)")
    if academy not in academies():
        raise SchoolError(f"unknown academy {academy!r}")
    if level not in ("1d", "2d"):
        raise SchoolError("level must be 1d (primary) or 2d (secondary)")
    if not name.strip():
        raise SchoolError("the school needs a name")
    if not db.session.scalar(select(Academy.id).where(Academy.code == academy)):
        db.session.add(Academy(code=academy, name=academies()[academy]))
    school = db.session.scalar(select(School).where(School.uai == uai))
    if school is None:
        school = School(uai=uai, name=name.strip(), academy_code=academy, level=level)
        db.session.add(school)
    else:
        school.name, school.academy_code, school.level = name.strip(), academy, level
    db.session.flush()
    return school
