"""Factories with traits: a committed row per call, returned as plain values."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from idp.admin.accounts import create_account
from idp.db import db
from idp.models import AccountState, GuardianLink, School
from idp.models import CharterAcceptance, CharterVersion, ContactPreferences
from idp.oidc.clients import register_client

_seq = itertools.count(1)
DEFAULT_PASSWORD = "Cartable-Bleu-2026"


@dataclass
class MadeAccount:
    id: int
    identifier: str
    password: str
    public_id: str


@dataclass
class MadeClient:
    client_id: str
    client_secret: str | None
    redirect_uri: str
    name: str


class Factories:
    def __init__(self, app):
        self.app = app

    def school(self, uai: str = "0540042A", name: str = "Collège Jean Moulin",
               academy: str = "nancy-metz") -> int:
        with self.app.app_context():
            school = db.session.scalar(select(School).where(School.uai == uai))
            if school is None:
                school = School(uai=uai, name=name, academy_code=academy)
                db.session.add(school)
                db.session.commit()
            return school.id

    def account(self, *, identifier: str | None = None, password: str = DEFAULT_PASSWORD,
                profile: str = "parent", academy: str = "nancy-metz",
                state: str = "active", first_name: str = "Camille", last_name: str = "Martin",
                email: str | None = "camille.martin@example.org", with_pupils: int = 0,
                class_name: str | None = None, birth_date: date | None = None,
                charter_accepted: bool = True, preferences_done: bool = True) -> MadeAccount:
        """An account; traits: state=provisional|pending_email|active|deactivated,
        with_pupils=N (a parent linked to N pupil accounts), charter_accepted (every
        charter published so far accepted), preferences_done ("Contact et préférences"
        answered). By default an account is ready: no J5 step stands in its way."""
        school_id = self.school()
        n = next(_seq)
        identifier = identifier or f"{first_name[0].lower()}.{last_name.lower()}{n}"
        with self.app.app_context():
            school = db.session.get(School, school_id)
            account = create_account(
                identifier=identifier, password=password, profile=profile, academy=academy,
                first_name=first_name, last_name=last_name, email=email,
                active=state == "active", school=school, class_name=class_name,
                birth_date=birth_date)
            account.state = AccountState(state)
            for i in range(with_pupils):
                pupil = create_account(
                    identifier=f"e.{last_name.lower()}{n}{i}", password=password,
                    profile="pupil", academy=academy, first_name=f"Enfant{i}",
                    last_name=last_name, active=True, school=school, class_name="5e A",
                    birth_date=date(2013, 1, 1 + i))
                db.session.add(GuardianLink(guardian_id=account.id, pupil_id=pupil.id))
            if charter_accepted:
                for version in db.session.scalars(select(CharterVersion)):
                    db.session.add(CharterAcceptance(account_id=account.id,
                                                     charter_version_id=version.id))
            if preferences_done:
                db.session.add(ContactPreferences(account_id=account.id))
            db.session.commit()
            return MadeAccount(account.id, account.identifier, password, account.public_id)

    def oidc_client(self, *, name: str | None = None, redirect_uris: list[str] | None = None,
                    trusted: bool = True, **kwargs) -> MadeClient:
        """A registered OIDC client; trait: trusted (the school's own service, no consent
        page; pass trusted=False to test consent)."""
        redirect_uris = redirect_uris or ["https://rp.example/callback"]
        with self.app.app_context():
            reg = register_client(name=name or f"RP {next(_seq)}", redirect_uris=redirect_uris,
                                  **kwargs)
            reg.row.trusted_for_school = trusted
            db.session.commit()
            return MadeClient(reg.row.client_id, reg.client_secret, redirect_uris[0], reg.row.name)
