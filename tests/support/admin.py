"""Console helpers: staff accounts with a known TOTP secret, a real sign-in (password
page, then a current TOTP code) through the console's forms, minimal SP metadata."""
from __future__ import annotations

import pytest

from idp.db import db

from .factories import STAFF_PASSWORD, MadeStaff, StaffFactory, sp_metadata

__all__ = ["STAFF_PASSWORD", "MadeStaff", "make_staff", "console_sign_in", "sp_metadata",
           "two_schools"]


def make_staff(app, identifier: str, role: str = "operator", schools: list[str] = (),
               password: str = STAFF_PASSWORD) -> MadeStaff:
    return StaffFactory(identifier=identifier, role=role, schools=schools, password=password)


def console_sign_in(browser, staff: MadeStaff, code: str | None = None):
    """Password page then code page, as a person would; returns the page reached."""
    browser.get("/admin/connexion")
    page = browser.submit("/admin/connexion", {"identifier": staff.identifier,
                                               "password": staff.password})
    assert page.request.path == "/admin/connexion/code", page.text[:400]
    return browser.submit("/admin/connexion/code", {"code": code or staff.code()})


SCHOOL_A, SCHOOL_B = "0540042A", "0880099Z"
ROSTER_B = ("ine;nom;prenom;date_naissance;classe;resp1_nom;resp1_prenom;resp1_telephone;"
            "resp1_email;resp2_nom;resp2_prenom;resp2_telephone;resp2_email\n"
            "5234567890E;Durand;Paul;05/05/2013;5e D;Durand;Marie;06 11 22 33 44;"
            "marie.durand@example.org;;;;\n").encode()


def two_schools(app, make) -> dict:
    """School A with the sample roster (8 accounts), school B with one family; returns
    identifier -> account id for both."""
    from sqlalchemy import select

    from idp.config import PROJECT_ROOT
    from idp.models import Account
    from idp.roster import import_roster
    from idp.roster.schools import upsert_school

    make.school(SCHOOL_A)
    with app.app_context():
        upsert_school(SCHOOL_B, "École Jules Ferry", "nancy-metz", "1d")
        import_roster(SCHOOL_A, (PROJECT_ROOT / "config" / "samples" / "roster_sample.csv").read_bytes())
        import_roster(SCHOOL_B, ROSTER_B)
        db.session.commit()
        return dict(db.session.execute(select(Account.identifier, Account.id)).all())


@pytest.fixture
def operator(app, browser):
    """A browser signed in on the staff console as an operator (ops.alice)."""
    console_sign_in(browser, make_staff(app, "ops.alice"))
    return browser
