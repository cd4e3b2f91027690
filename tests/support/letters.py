"""J3 school letters for tests: one family imported from a roster line and its letters
issued (fixture `letters`: identifier -> provisional password). Loaded through
pytest_plugins."""
from __future__ import annotations

import pytest

from idp.db import db
from idp.roster import find_school, import_roster, issue_letters

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
