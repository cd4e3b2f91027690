"""Schools, accounts and families (a guardian linked to pupils).

    AccountFactory()                        a parent, active, nothing left to do (J5 done)
    AccountFactory(provisional=True)        a roster account before its first connection
    AccountFactory(deactivated=True)        (also pending_email=True, activated=True)
    AccountFactory(first_visit=True)        no charter accepted, preferences not answered
    AccountFactory(charter_accepted=False)  only the charter left to accept
    AccountFactory(with_pupils=2)           a parent linked to two pupil accounts
    AccountFactory(with_second_factor=True) TOTP enrolled: made.code() gives a fresh code
    AccountFactory(pupil=True)              a pupil account
    FamilyFactory(with_pupils=2)            MadeFamily(guardian, pupils)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

import factory
import pyotp
from sqlalchemy import select

from idp.admin.accounts import create_account
from idp.db import db
from idp.models import (AccountState, CharterAcceptance, CharterVersion, ContactPreferences,
                        GuardianLink, RecoveryCode, School, SecondFactor)
from idp.security import totp

from .base import AppFactory, next_number

DEFAULT_PASSWORD = "Cartable-Bleu-2026"


@dataclass
class MadeSchool:
    id: int
    uai: str
    name: str
    academy: str


@dataclass
class MadeAccount:
    id: int
    identifier: str
    password: str
    public_id: str
    pupil_ids: list[int] = field(default_factory=list)
    totp_secret: str | None = None
    recovery_codes: list[str] = field(default_factory=list)
    pupils: list["MadeAccount"] = field(default_factory=list, repr=False)
    used_steps: set = field(default_factory=set, repr=False)

    def code(self) -> str:
        """A current TOTP code not used yet (the IdP refuses a replayed time step)."""
        assert self.totp_secret, "this account has no second factor (with_second_factor)"
        now = time.time()
        for drift in (0, 1, -1):
            step = int(now // 30) + drift
            if step not in self.used_steps:
                self.used_steps.add(step)
                return pyotp.TOTP(self.totp_secret).at(step * 30)
        raise AssertionError("three codes for one account within 30 seconds")


@dataclass
class MadeFamily:
    guardian: MadeAccount
    pupils: list[MadeAccount]


def school_row(uai: str = "0540042A", name: str = "Collège Jean Moulin",
               academy: str = "nancy-metz") -> School:
    """The school with this UAI in the current session, added and flushed if new (for
    helpers already inside an app context; SchoolFactory commits one of its own)."""
    school = db.session.scalar(select(School).where(School.uai == uai))
    if school is None:
        school = School(uai=uai, name=name, academy_code=academy)
        db.session.add(school)
        db.session.flush()
    return school


class SchoolFactory(AppFactory):
    """A school, found by UAI if it exists already (get or create)."""

    class Meta:
        model = MadeSchool

    uai = "0540042A"
    name = "Collège Jean Moulin"
    academy = "nancy-metz"

    @classmethod
    def make_row(cls, *, uai, name, academy):
        return school_row(uai, name, academy)

    @classmethod
    def made(cls, row, values):
        return MadeSchool(row.id, row.uai, row.name, row.academy_code)


class AccountFactory(AppFactory):
    class Meta:
        model = MadeAccount

    class Params:
        activated = factory.Trait(state="active")
        provisional = factory.Trait(state="provisional")
        pending_email = factory.Trait(state="pending_email")
        deactivated = factory.Trait(state="deactivated")
        first_visit = factory.Trait(charter_accepted=False, preferences_done=False)
        pupil = factory.Trait(profile="pupil", email=None, class_name="5e A",
                              birth_date=date(2013, 1, 1))

    number = factory.LazyFunction(next_number)
    first_name = "Camille"
    last_name = "Martin"
    identifier = factory.LazyAttribute(
        lambda o: f"{o.first_name[0].lower()}.{o.last_name.lower()}{o.number}")
    password = DEFAULT_PASSWORD
    profile = "parent"
    academy = "nancy-metz"
    state = "active"
    email = "camille.martin@example.org"
    class_name = None
    birth_date = None
    school_uai = "0540042A"
    # Not J5-gated by default: the charters published so far accepted, the
    # "Contact et préférences" page answered.
    charter_accepted = True
    preferences_done = True
    with_pupils = 0
    with_second_factor = False

    @classmethod
    def make_row(cls, *, number, school_uai, with_pupils, with_second_factor,
                 charter_accepted, preferences_done, state, **fields):
        school = school_row(school_uai)
        account = create_account(**fields, active=state == "active", school=school)
        account.state = AccountState(state)
        account.pupils_made = [cls._pupil(account, school, number, i, fields)
                               for i in range(with_pupils)]
        account.second_factor_made = (
            cls._second_factor(account) if with_second_factor else (None, []))
        if charter_accepted:
            for version in db.session.scalars(select(CharterVersion)):
                db.session.add(CharterAcceptance(account_id=account.id,
                                                 charter_version_id=version.id))
        if preferences_done:
            db.session.add(ContactPreferences(account_id=account.id))
        return account

    @staticmethod
    def _pupil(guardian, school, number, i, fields):
        pupil = create_account(
            identifier=f"e.{fields['last_name'].lower()}{number}{i}",
            password=fields["password"], profile="pupil", academy=fields["academy"],
            first_name=f"Enfant{i}", last_name=fields["last_name"], active=True,
            school=school, class_name="5e A", birth_date=date(2013, 1, 1 + i))
        db.session.add(GuardianLink(guardian_id=guardian.id, pupil_id=pupil.id))
        return MadeAccount(pupil.id, pupil.identifier, fields["password"], pupil.public_id)

    @staticmethod
    def _second_factor(account):
        secret = totp.new_secret()
        db.session.add(SecondFactor(account_id=account.id, sealed_secret=totp.seal(secret)))
        codes = totp.new_recovery_codes(3)
        db.session.add_all(RecoveryCode(account_id=account.id,
                                        code_hash=totp.hash_recovery_code(c)) for c in codes)
        return secret, codes

    @classmethod
    def made(cls, row, values):
        secret, codes = row.second_factor_made
        pupils = row.pupils_made
        return MadeAccount(row.id, row.identifier, values["password"], row.public_id,
                           [p.id for p in pupils], secret, codes, pupils)


class FamilyFactory(AccountFactory):
    """A guardian and the pupils linked to them (two unless with_pupils says otherwise)."""

    class Meta:
        model = MadeFamily

    with_pupils = 2

    @classmethod
    def made(cls, row, values):
        guardian = super().made(row, values)
        return MadeFamily(guardian, guardian.pupils)
