"""J3 school letters for tests: one family imported from a roster line and its letters
issued (fixture `letters`: identifier -> provisional password), and another school's
family for "Ajouter un enfant" and "Fusionner deux comptes" (fixture `other_school`:
identifier -> (account id, provisional password)). Loaded through pytest_plugins."""
from __future__ import annotations

import pytest

from idp.db import db
from idp.roster import find_school, import_roster, issue_letters
from idp.roster.schools import upsert_school

from .admin import ROSTER_B, SCHOOL_B

SCHOOL = "0540042A"
ROSTER = ("ine;nom;prenom;date_naissance;classe;resp1_nom;resp1_prenom;resp1_telephone;"
          "resp1_email\n"
          "1111111111A;Durand;Léo;14/03/2012;4e B;Durand;Marie;06 12 34 56 78;\n")
NEW_PASSWORD = "Cartable-Vert-2026"


@pytest.fixture
def letters(app, make):
    """Import one family and issue its letters: identifier -> provisional password."""
    make.school(SCHOOL)
    with app.app_context():
        import_roster(SCHOOL, ROSTER.encode())
        batch = issue_letters(find_school(SCHOOL))
        db.session.commit()
        return {letter.account.identifier: letter.password for letter in batch.letters}


@pytest.fixture
def other_school(app, make):
    """School B's roster (Paul Durand, 5e D, and his representative Marie Durand) with
    its letters printed: identifier -> (account id, provisional password)."""
    make.school()
    with app.app_context():
        upsert_school(SCHOOL_B, "École Jules Ferry", "nancy-metz", "1d")
        import_roster(SCHOOL_B, ROSTER_B)
        batch = issue_letters(find_school(SCHOOL_B))
        db.session.commit()
        return {l.account.identifier: (l.account.id, l.password) for l in batch.letters}
