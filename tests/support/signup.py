"""J4 helpers: school records made directly (a family the school knows) and a driver that
goes through the sign-up pages as a family would, reading the SMS from the outbox."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from idp.db import db
from idp.models import OutboxMessage

from .factories.records import PHONE, Family, RecordFamilyFactory

CODE = re.compile(r"\b(\d{6})\b")


def make_family(app, **traits) -> Family:
    """A representative record linked to pupil records (factories.RecordFamilyFactory;
    `account_state` gives the representative an account in that state)."""
    return RecordFamilyFactory(**traits)


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
