"""J4 helpers: school records made directly (a family the school knows) and a driver that
goes through the sign-up pages as a family would, reading the SMS from the outbox."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from idp.db import db
from idp.models import (Account, AccountProfile, AccountState, OutboxMessage, PupilRecord,
                        RecordGuardianLink, RepresentativeRecord)
from idp.roster.names import fold_words

from .factories.accounts import school_row

CODE = re.compile(r"\b(\d{6})\b")
PHONE = "+33611223344"


@dataclass
class Family:
    record_id: int
    pupil_record_ids: list = field(default_factory=list)
    pupil_account_ids: list = field(default_factory=list)
    account_id: int | None = None


_ine = iter(range(100000000, 999999999))


def make_family(app, *, first_name: str = "Jeanne", last_name: str = "Petit",
                phone: str | None = PHONE, academy: str = "nancy-metz",
                pupils=(("Lucas", "Petit", date(2013, 5, 20), "0540042A"),),
                account_state: str | None = None, identifier: str | None = None) -> Family:
    """A representative record with `phone` linked to pupil records (each with an active
    pupil account); `account_state` gives the representative an account in that state."""
    with app.app_context():
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
        db.session.commit()
        return family


def sms_to(app, phone: str = PHONE) -> list[str]:
    with app.app_context():
        return [m.text for m in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == "sms", OutboxMessage.recipient == phone)
            .order_by(OutboxMessage.id))]


def last_code(app, phone: str = PHONE) -> str:
    texts = sms_to(app, phone)
    assert texts, f"no SMS to {phone}"
    match = CODE.search(texts[-1])
    assert match, texts[-1]
    return match.group(1)


def plain(page) -> str:
    """The page's text with HTML entities decoded (messages from Python are escaped)."""
    return html.unescape(page.text)


class Signup:
    """Drives /inscription with a Browser."""

    def __init__(self, app, browser):
        self.app = app
        self.browser = browser

    def identity(self, last_name="Petit", first_name="Jeanne", phone="06 11 22 33 44",
                 region="FR", follow=True):
        self.browser.get("/inscription")
        return self.browser.submit_page({"last_name": last_name, "first_name": first_name,
                                         "phone": phone, "region": region}, follow=follow)

    def code(self, code: str | None = None, phone: str = PHONE, follow=True):
        return self.browser.submit_page({"code": code or last_code(self.app, phone)},
                                        follow=follow)

    def pupils(self, *answers, follow=True):
        """answers: (link, "JJ", "MM", "AAAA") per pupil, in page order."""
        data = {}
        for n, (link, day, month, year) in enumerate(answers):
            data.update({f"link_{n}": link, f"day_{n}": day, f"month_{n}": month,
                         f"year_{n}": year})
        return self.browser.submit_page(data, follow=follow)

    def password(self, password="Trousse-Verte-2026!", confirm=None, follow=True):
        return self.browser.submit_page({"password": password,
                                         "password_confirm": confirm or password},
                                        follow=follow)

    def through(self, answers=(("yes", "20", "05", "2013"),), **identity):
        """The whole journey for a family that matches; returns the done page."""
        page = self.identity(**identity)
        assert page.request.path == "/inscription/code", page.text[:300]
        page = self.code()
        assert page.request.path == "/inscription/eleves", page.text[:300]
        page = self.pupils(*answers)
        assert page.request.path == "/inscription/mot-de-passe", page.text[:300]
        page = self.password()
        assert page.request.path == "/inscription/compte-active", page.text[:300]
        return page
