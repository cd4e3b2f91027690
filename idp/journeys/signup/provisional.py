"""A provisional account (the school issued it, its letter was never used) taken over by
a family that proved who it is (sign-up's SMS code and birth dates, or FranceConnect's
first link): shared by both journeys. Sessions opened with the letter (held at the
activation step: no relying party reached) end with it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from ...db import db
from ...models import Account, AccountState
from ...signin.account_sessions import end_account_sessions


def activate(account_id: int, password_hash: str, phone: str, now: datetime) -> Account | None:
    """Activate it with its identifier, `password_hash` and the verified `phone`. One
    UPDATE that only a still-provisional account matches: of two requests racing for
    it, one gets the account, the other None (and raises its journey's error). Flushes
    nothing else; the letter's password stops working."""
    won = db.session.execute(
        update(Account).where(Account.id == account_id,
                              Account.state == AccountState.provisional)
        .values(password_hash=password_hash, state=AccountState.active, activated_at=now,
                provisional_password_hash=None, phone=phone, birth_date_failures=0),
        execution_options={"synchronize_session": False}).rowcount
    if won != 1:
        return None
    account = db.session.get(Account, account_id, populate_existing=True)
    end_account_sessions(account, reason="provisional_taken_over")
    return account
