"""Creating accounts directly (demos, tests, operators)."""
from __future__ import annotations

import re

from sqlalchemy import select

from ..db import db
from ..extensions import academies, passwords
from ..models import Account, AccountProfile, AccountState

IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


class AccountError(ValueError):
    pass


def create_account(*, identifier: str, password: str, profile: str, academy: str,
                   first_name: str = "", last_name: str = "", email: str | None = None,
                   active: bool = False, school=None, class_name: str | None = None,
                   birth_date=None, phone: str | None = None) -> Account:
    identifier = identifier.strip().lower()
    if not IDENTIFIER.match(identifier):
        raise AccountError(f"invalid identifier {identifier!r}")
    if academy not in academies():
        raise AccountError(f"unknown academy {academy!r}")
    if db.session.scalar(select(Account.id).where(Account.identifier == identifier)):
        raise AccountError(f"identifier {identifier!r} is taken")
    account = Account(
        identifier=identifier, password_hash=passwords().hash(password),
        profile=AccountProfile(profile),
        state=AccountState.active if active else AccountState.provisional,
        academy_code=academy, first_name=first_name, last_name=last_name, email=email,
        email_verified=bool(email and active), school=school, class_name=class_name,
        birth_date=birth_date, phone=phone)
    db.session.add(account)
    db.session.flush()
    return account
