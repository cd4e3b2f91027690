"""Factories per model, with traits (factory_boy): each call commits a row made through
the app's own services and returns a plain value (see base.py for why not ORM objects).

    from tests.support.factories import AccountFactory, OIDCClientFactory
    parent = AccountFactory(with_pupils=2)
    rp = OIDCClientFactory(public=True)

This module is also a pytest plugin (listed in tests/conftest.py): it binds the factories
to the test app and gives the `make` fixture, the short form most tests use
(make.account(...), make.oidc_client(...), make.family(), make.staff(), ...).
"""
from __future__ import annotations

import pytest

from .accounts import (DEFAULT_PASSWORD, AccountFactory, FamilyFactory, MadeAccount,
                       MadeFamily, MadeSchool, SchoolFactory)
from .base import bind
from .charters import (CHARTER_TEXT, NOTICE_TEXT, CharterVersionFactory, MadeText,
                       RPNoticeFactory)
from .records import Family as RecordFamily, RecordFamilyFactory
from .clients import MadeClient, MadeSP, OIDCClientFactory, SamlSPFactory, sp_metadata
from .staff import STAFF_PASSWORD, MadeStaff, StaffFactory

__all__ = ["AccountFactory", "CharterVersionFactory", "FamilyFactory", "OIDCClientFactory",
           "RecordFamilyFactory", "RPNoticeFactory", "SamlSPFactory", "SchoolFactory", "StaffFactory", "Factories",
           "MadeAccount", "MadeClient", "MadeFamily", "MadeSchool", "MadeSP", "MadeStaff",
           "MadeText", "RecordFamily", "CHARTER_TEXT", "NOTICE_TEXT", "DEFAULT_PASSWORD", "STAFF_PASSWORD", "sp_metadata"]


class Factories:
    """The `make` fixture: one short method per factory, same keywords and traits."""

    def __init__(self, app):
        self.app = app

    def school(self, uai: str = "0540042A", name: str = "Collège Jean Moulin",
               academy: str = "nancy-metz") -> int:
        """The school's id (get or create by UAI)."""
        return SchoolFactory(uai=uai, name=name, academy=academy).id

    def account(self, **traits) -> MadeAccount:
        return AccountFactory(**traits)

    def family(self, **traits) -> MadeFamily:
        return FamilyFactory(**traits)

    def oidc_client(self, **traits) -> MadeClient:
        return OIDCClientFactory(**traits)

    def saml_sp(self, **traits) -> MadeSP:
        return SamlSPFactory(**traits)

    def staff(self, **traits) -> MadeStaff:
        return StaffFactory(**traits)

    def charter(self, **traits) -> MadeText:
        return CharterVersionFactory(**traits)

    def record_family(self, **traits) -> RecordFamily:
        return RecordFamilyFactory(**traits)


@pytest.fixture(scope="session", autouse=True)
def factories_bound(app):
    """Every factory writes through the session's test app."""
    bind(app)


@pytest.fixture
def make(app):
    return Factories(app)
