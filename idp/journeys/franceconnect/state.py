"""The first-link transaction: a FranceConnect identity not linked yet, on its way
through the mobile number, the SMS code and the children's birth dates.

It lives in the store (plain JSON, a fixed lifetime from its start), named only by this
browser's server-side session and bound to a random value of it, like sign-up's
(journeys/signup/state.py). What the records said stays here, server-side.
"""
from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from flask import current_app, session

from ...extensions import store

SESSION_KEY = "fc_link_tx"
OWNER_KEY = "fc_owner"


def lifetime() -> int:
    return int(float(current_app.config["FRANCECONNECT_LINK_MINUTES"]) * 60)


def browser_owner() -> str:
    """A random value of this browser's session: FranceConnect flows and link
    transactions are bound to it."""
    if OWNER_KEY not in session:
        session[OWNER_KEY] = secrets.token_urlsafe(16)
    return session[OWNER_KEY]


class StopReason(StrEnum):
    """Why the link cannot be made here (the page says what to do)."""
    no_match = "no_match"          # the names, the number or the children do not match
    birth_dates = "birth_dates"    # too many wrong birth dates
    ambiguous = "ambiguous"        # the identity matches two representatives
    deactivated = "deactivated"    # the representative's account is closed
    already_linked = "already_linked"  # that account is linked to another identity
    password = "password"          # too many wrong passwords for the existing account


@dataclass
class LinkTransaction:
    owner: str
    identity: dict                 # client.Identity as a dict (id_token included)
    phone: str | None = None       # E.164
    raw_phone: str | None = None
    region: str = "FR"
    record_ids: list = field(default_factory=list)   # records holding that number
    pupil_ids: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)
    dates: dict = field(default_factory=dict)
    account_id: int | None = None  # password step: the account to confirm
    step: str = "phone"
    stop_reason: str | None = None
    id: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    created: float = field(default_factory=time.time)

    @property
    def key(self) -> str:
        return "fc-link:" + self.id

    def remaining(self) -> int:
        return int(self.created + lifetime() - time.time())

    def save(self) -> "LinkTransaction":
        store().set(self.key, asdict(self), max(self.remaining(), 1))
        session[SESSION_KEY] = self.id
        return self

    def forget(self) -> None:
        store().delete(self.key)
        session.pop(SESSION_KEY, None)

    @classmethod
    def current(cls) -> "LinkTransaction | None":
        tx_id = session.get(SESSION_KEY)
        data = store().get("fc-link:" + tx_id) if tx_id else None
        if not data:
            return None
        tx = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        if not hmac.compare_digest(tx.owner.encode(), session.get(OWNER_KEY, "").encode()):
            return None
        return tx

    @classmethod
    def had_expired(cls) -> bool:
        return bool(session.get(SESSION_KEY)) and cls.current() is None
