"""Issue 19: a first FranceConnect link onto the provisional account a school issued (its
letter never used): the account is taken over, not duplicated. Over real HTTP, as
test_franceconnect.py (the IdP under gunicorn, the FranceConnect stand-in, a browser)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from idp.db import db
from idp.models import Account, AccountState, AuditEvent, FranceConnectLink
from tests.support.franceconnect import FranceConnectFamily, franceconnect_idp  # noqa: F401

pytestmark = pytest.mark.interop


def test_a_provisional_account_is_taken_over_by_the_first_link(app, make, franceconnect_idp):
    franceconnect_idp.switch("ok")
    family = FranceConnectFamily(app, franceconnect_idp)
    made = make.record_family(first_name="Sophie", last_name="Martin", phone="+33698765432",
                              with_provisional_account=True,
                              pupils=(("Lou", "Martin", date(2014, 2, 3), "0540042A"),))
    family.sign_in("presumed")
    family.first_link(phone="06 98 76 54 32", sms_phone="+33698765432",
                      dates=(("yes", "03", "02", "2014"),))
    family.browser.through_steps()
    assert family.path == "/", family.browser.url
    with app.app_context():
        [link] = db.session.scalars(select(FranceConnectLink))
        account = db.session.get(Account, link.account_id)
        assert account.id == made.account_id  # the school's account, with its identifier
        assert account.state == AccountState.active and account.activated_at is not None
        assert account.provisional_password_hash is None and account.phone == "+33698765432"
        assert db.session.query(Account).filter_by(last_name="Martin",
                                                   profile=account.profile).count() == 1
        [linked] = [e.details for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "franceconnect_linked"))]
    assert linked == {"mode": "provisional"}
