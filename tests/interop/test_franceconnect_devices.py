"""A FranceConnect sign-in is a sign-in like a password's (new_device.sign_in_here): the
browser keeps the account's device cookie, and a device new to the family is told to the
family (issue 17's notice), never at the first link, which is itself a first connection.
Over real HTTP: the IdP under gunicorn with the notice on, the FranceConnect stand-in."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.admin.demo import load_demo
from idp.db import db
from idp.models import OutboxMessage
from tests.support.franceconnect import FranceConnectFamily, franceconnect_and_idp, form_index

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def notices_on(settings, tmp_path_factory):
    with franceconnect_and_idp(settings, tmp_path_factory.mktemp("fc-devices"),
                               NEW_DEVICE_NOTICE=True) as setup:
        yield setup


def _notices(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "new_device").order_by(OutboxMessage.id)))


def test_a_franceconnect_sign_in_on_a_new_device_is_told_once(app, notices_on):
    with app.app_context():
        load_demo()
        db.session.commit()
    notices_on.switch("ok")
    first = FranceConnectFamily(app, notices_on)
    first.sign_in("nadia")
    first.first_link()
    first.browser.through_steps()
    assert first.path == "/" and _notices(app) == []  # the first link: no notice

    # Another browser: FranceConnect straight through, and the family is told.
    other = FranceConnectFamily(app, notices_on)
    other.sign_in("nadia")
    other.browser.through_steps()
    assert other.path == "/", other.browser.url
    [notice] = _notices(app)
    assert "/connexion/ce-netait-pas-moi/" in notice.text

    # That browser is known from now on, and so is the first one: no second notice.
    for family in (other, first):
        home = family.open("/")
        family.browser.submit(index=form_index(home, "/deconnexion"))
        family.sign_in("nadia")
        family.browser.through_steps()
        assert family.path == "/", family.browser.url
    assert len(_notices(app)) == 1
