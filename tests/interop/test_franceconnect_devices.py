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


def test_linking_an_existing_account_with_its_password_is_a_sign_in_like_any(
        app, make, notices_on):
    """The first link to an account already in use (its password typed): a sign-in from
    a device the family never used, so the family is told, as for a password sign-in."""
    from datetime import date

    from idp.extensions import passwords
    from idp.models import Account
    from tests.support.accounts import update_account

    with app.app_context():
        load_demo()
        db.session.commit()
    notices_on.switch("ok")
    made = make.record_family(first_name="Nadia", last_name="Benali", phone="+33698765432",
                              with_active_account=True, identifier="n.benali8",
                              pupils=(("Lou", "Benali", date(2014, 2, 3), "0540042A"),))
    update_account(app, made.account_id, email="n.benali8@example.org", email_verified=True)
    with app.app_context():
        db.session.get(Account, made.account_id).password_hash = passwords().hash(
            "Ancien-Mot-2026!")
        db.session.commit()
    family = FranceConnectFamily(app, notices_on)
    family.sign_in("nadia")
    family.first_link(phone="06 98 76 54 32", sms_phone="+33698765432",
                      dates=(("yes", "03", "02", "2014"),))
    assert family.path == "/franceconnect/mot-de-passe", family.browser.url
    family.browser.submit({"password": "Ancien-Mot-2026!"})
    family.browser.through_steps()
    assert family.path == "/", family.browser.url
    assert [n.recipient for n in _notices(app)] == ["n.benali8@example.org"]
