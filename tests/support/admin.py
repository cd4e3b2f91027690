"""Console helpers: staff accounts with a known TOTP secret, a real sign-in (password
page, then a current TOTP code) through the console's forms, minimal SP metadata."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyotp

from idp.admin.staff import create_staff
from idp.db import db

STAFF_PASSWORD = "Console-Bleue-2026!"


@dataclass
class MadeStaff:
    identifier: str
    password: str
    secret: str
    recovery_codes: list[str]
    role: str
    used_steps: set = field(default_factory=set)

    def code(self) -> str:
        """A currently valid code not used yet (the console refuses a replayed step)."""
        now = time.time()
        for drift in (0, 1, -1):
            step = int(now // 30) + drift
            if step not in self.used_steps:
                self.used_steps.add(step)
                return pyotp.TOTP(self.secret).at(step * 30)
        raise AssertionError("three sign-ins of one staff member within 30 seconds")


def make_staff(app, identifier: str, role: str = "operator", schools: list[str] = (),
               password: str = STAFF_PASSWORD) -> MadeStaff:
    with app.app_context():
        _, enrolment = create_staff(identifier=identifier, password=password, role=role,
                                    schools=list(schools), with_totp=True, actor="test")
        db.session.commit()
    return MadeStaff(identifier, password, enrolment.secret, enrolment.recovery_codes, role)


def console_sign_in(browser, staff: MadeStaff, code: str | None = None):
    """Password page then code page, as a person would; returns the page reached."""
    browser.get("/admin/connexion")
    page = browser.submit("/admin/connexion", {"identifier": staff.identifier,
                                               "password": staff.password})
    assert page.request.path == "/admin/connexion/code", page.text[:400]
    return browser.submit("/admin/connexion/code", {"code": code or staff.code()})


def sp_metadata(entity_id: str = "https://sp.example/sp", name: str | None = None) -> str:
    org = (f"<md:Organization><md:OrganizationName xml:lang=\"fr\">{name}</md:OrganizationName>"
           f"<md:OrganizationDisplayName xml:lang=\"fr\">{name}</md:OrganizationDisplayName>"
           f"<md:OrganizationURL xml:lang=\"fr\">https://sp.example/</md:OrganizationURL>"
           f"</md:Organization>") if name else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">'
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="{entity_id.rsplit("/", 1)[0]}/acs" index="0"/>'
        f'</md:SPSSODescriptor>{org}</md:EntityDescriptor>')


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
