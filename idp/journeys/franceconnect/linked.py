"""A FranceConnected account (issue 19, point 3): its link, whether it has a password of
its own, "Délier FranceConnect", and where the account came from (the console)."""
from __future__ import annotations

from sqlalchemy import select

from ...audit import record
from ...db import db
from ...models import Account, AccountState, FranceConnectLink


def link_of(account: Account | None) -> FranceConnectLink | None:
    if account is None:
        return None
    return db.session.scalar(select(FranceConnectLink).where(
        FranceConnectLink.account_id == account.id))


def has_own_password(account: Account, link: FranceConnectLink | None) -> bool:
    """False for an account made through FranceConnect that never chose a password."""
    return link is None or link.placeholder_hash is None \
        or account.password_hash != link.placeholder_hash


def unlink(account: Account) -> bool:
    """"Délier FranceConnect": only with a password of its own (or the account could no
    longer be reached). The names stay as they are, now editable by the school."""
    link = link_of(account)
    if link is None or not has_own_password(account, link):
        return False
    db.session.delete(link)
    db.session.flush()
    record("franceconnect_unlinked", actor=account.identifier)
    return True


def origin(account: Account) -> str:
    """How the account came to be: "franceconnect" (made by a first FranceConnect link),
    "letter" (the school made it: a letter printed, or one still to come) or "sms" (J4),
    by the same rule as the console's dashboard (admin/dashboard.py)."""
    link = link_of(account)
    if link is not None and link.created_account and account.issued_at is None:
        return "franceconnect"
    if account.issued_at is not None or account.state == AccountState.provisional:
        return "letter"
    return "sms"
