"""The factories' traits make what they say (tests/support/factories): the rows behind a
trait, read back from the database."""
from __future__ import annotations

import pyotp
from sqlalchemy import select

from idp.db import db
from idp.models import (Account, AccountState, CharterAcceptance, CharterVersion,
                        ContactPreferences, GuardianLink, OIDCClient, RecordGuardianLink,
                        RepresentativeRecord, SAMLServiceProvider, SecondFactor, StaffAccount)
from idp.security import totp

from ..support.factories import (AccountFactory, CharterVersionFactory, FamilyFactory,
                                 OIDCClientFactory, RecordFamilyFactory, SamlSPFactory,
                                 SchoolFactory, StaffFactory)


def row(app, model, **where):
    with app.app_context():
        stmt = select(model).filter_by(**where)
        found = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return found


def test_account_traits(app):
    CharterVersionFactory()
    ready = AccountFactory()
    provisional = AccountFactory(provisional=True)
    gone = AccountFactory(deactivated=True)
    fresh = AccountFactory(first_visit=True)
    [a] = row(app, Account, id=ready.id)
    assert a.state == AccountState.active and a.identifier == ready.identifier
    assert row(app, Account, id=provisional.id)[0].state == AccountState.provisional
    assert row(app, Account, id=gone.id)[0].state == AccountState.deactivated
    assert row(app, CharterAcceptance, account_id=ready.id)
    assert row(app, ContactPreferences, account_id=ready.id)
    assert not row(app, CharterAcceptance, account_id=fresh.id)
    assert not row(app, ContactPreferences, account_id=fresh.id)
    assert len({ready.identifier, provisional.identifier, gone.identifier}) == 3


def test_family_and_second_factor(app):
    family = FamilyFactory()
    assert len(family.pupils) == 2
    links = row(app, GuardianLink, guardian_id=family.guardian.id)
    assert sorted(l.pupil_id for l in links) == sorted(p.id for p in family.pupils)
    secured = AccountFactory(with_second_factor=True)
    [factor] = row(app, SecondFactor, account_id=secured.id)
    with app.app_context():
        assert totp.unseal(factor.sealed_secret) == secured.totp_secret
    assert pyotp.TOTP(secured.totp_secret).verify(secured.code(), valid_window=1)


def test_clients_staff_school_charter(app):
    confidential = OIDCClientFactory()
    public = OIDCClientFactory(public=True, untrusted=True)
    assert confidential.client_secret and public.client_secret is None
    [c] = row(app, OIDCClient, client_id=confidential.client_id)
    [p] = row(app, OIDCClient, client_id=public.client_id)
    assert c.trusted_for_school and not p.trusted_for_school
    sp = SamlSPFactory(assertion_signed=True)
    [s] = row(app, SAMLServiceProvider, entity_id=sp.entity_id)
    assert s.sign_mode == "assertion"
    staff = StaffFactory(auditor=True)
    assert row(app, StaffAccount, identifier=staff.identifier)[0].role.value == "auditor"
    assert SchoolFactory().id == SchoolFactory().id  # get or create by UAI
    general = CharterVersionFactory(version="2027-01")
    assert row(app, CharterVersion, id=general.id)[0].audience == "general"


def test_a_family_the_school_knows(app):
    unknown = RecordFamilyFactory()
    known = RecordFamilyFactory(with_provisional_account=True, without_phone=True)
    assert unknown.account_id is None and len(unknown.pupil_account_ids) == 1
    assert row(app, Account, id=known.account_id)[0].state == AccountState.provisional
    assert row(app, RepresentativeRecord, id=known.record_id)[0].phone is None
    assert len(row(app, RecordGuardianLink, representative_record_id=unknown.record_id)) == 1
