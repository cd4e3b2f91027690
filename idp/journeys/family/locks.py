"""Row locks for the family's changes that two requests could make at once (a double
click, two devices): "Fusionner deux comptes", "Ajouter un enfant"."""
from __future__ import annotations

from sqlalchemy import select

from ...db import db
from ...models import Account


def lock_accounts(*accounts: Account) -> None:
    """These accounts' rows locked until the commit (SELECT ... FOR UPDATE, in id order:
    two requests locking the same rows cannot deadlock) and read again, so what a
    concurrent request committed meanwhile is seen. SQLite has no row locks: it runs
    one writer at a time."""
    ids = sorted({account.id for account in accounts})
    db.session.execute(select(Account.id).where(Account.id.in_(ids)).order_by(Account.id)
                       .with_for_update())
    for account in accounts:
        db.session.refresh(account)
