"""A family the school knows (J4 sign-up): a representative record with a phone, linked
to pupil records, each pupil with an active account; made directly, as the roster import
would leave them.

    RecordFamilyFactory()                          no account yet: the family signs up
    RecordFamilyFactory(with_provisional_account=True)   a roster account already exists
    RecordFamilyFactory(with_active_account=True)        (account_state= for any other)
    RecordFamilyFactory(without_phone=True)        the school has no number for them
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

import factory

from idp.db import db
from idp.models import (Account, AccountProfile, AccountState, PupilRecord,
                        RecordGuardianLink, RepresentativeRecord)
from idp.roster.names import fold_words

from .accounts import school_row
from .base import AppFactory

PHONE = "+33611223344"
_ine = itertools.count(100000000)


@dataclass
class Family:
    record_id: int
    pupil_record_ids: list = field(default_factory=list)
    pupil_account_ids: list = field(default_factory=list)
    account_id: int | None = None


class RecordFamilyFactory(AppFactory):
    class Meta:
        model = Family

    class Params:
        with_provisional_account = factory.Trait(account_state="provisional")
        with_active_account = factory.Trait(account_state="active")
        without_phone = factory.Trait(phone=None)

    first_name = "Jeanne"
    last_name = "Petit"
    phone = PHONE
    academy = "nancy-metz"
    # (first name, last name, birth date, school UAI) per pupil
    pupils = (("Lucas", "Petit", date(2013, 5, 20), "0540042A"),)
    account_state = None
    identifier = None

    @classmethod
    def make_row(cls, *, first_name, last_name, phone, academy, pupils, account_state,
                 identifier):
        rep = RepresentativeRecord(
            academy_code=academy, first_name=first_name, last_name=last_name, phone=phone,
            match_key=f"{fold_words(last_name)}|{fold_words(first_name)}|{phone}")
        db.session.add(rep)
        db.session.flush()
        family = Family(rep.id)
        for n, (first, last, born, uai) in enumerate(pupils):
            where = school_row(uai, name=f"Collège {uai}", academy=academy)
            pupil_account = Account(
                identifier=f"e.{last.lower()}{rep.id}x{n}", password_hash="-",
                profile=AccountProfile.pupil, state=AccountState.active,
                academy_code=academy, first_name=first, last_name=last, birth_date=born,
                school_id=where.id)
            db.session.add(pupil_account)
            db.session.flush()
            pupil = PupilRecord(national_id=f"{next(_ine)}{n}A", school_id=where.id,
                                first_name=first, last_name=last, birth_date=born,
                                class_name="5e C", account_id=pupil_account.id)
            db.session.add(pupil)
            db.session.flush()
            db.session.add(RecordGuardianLink(pupil_record_id=pupil.id,
                                              representative_record_id=rep.id))
            family.pupil_record_ids.append(pupil.id)
            family.pupil_account_ids.append(pupil_account.id)
        if account_state:
            account = Account(identifier=identifier or f"j.petit{rep.id}", password_hash="-",
                              profile=AccountProfile.parent, state=AccountState(account_state),
                              academy_code=academy, first_name=first_name,
                              last_name=last_name, phone=phone)
            db.session.add(account)
            db.session.flush()
            rep.account_id = family.account_id = account.id
        return family

    @classmethod
    def made(cls, family, values):
        return family
