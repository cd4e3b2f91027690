"""A signed-out journey's transaction in the store: where a family is in J4 sign-up
(signup/state.py) or FranceConnect's first link (franceconnect/state.py).

One transaction per attempt, under a random id named only by the browser's server-side
session (each journey its own session key), with a fixed lifetime from its start (a
setting in minutes). It is plain JSON, so a journey begun on one process goes on on
another; what the records said stays here, server-side, never in a page.

A transaction is bound to this browser: `owner` is a random value kept in its session
(`browser_owner`), one for both journeys (and FranceConnect's flow, which the callback
checks the same way).
"""
from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import ClassVar

from flask import current_app, session

from ..audit import record
from ..extensions import store

OWNER_KEY = "journey_owner"
# Each journey had its own owner key before this one: a browser mid-journey across that
# deploy still holds them. Read only (FranceConnect's first, its flow checks one value),
# never written again.
OLD_OWNER_KEYS = ("fc_owner", "signup_owner")


def _session_owners() -> list[str]:
    return [value for key in (OWNER_KEY, *OLD_OWNER_KEYS)
            if isinstance(value := session.get(key), str) and value]


def session_owner() -> str | None:
    """This browser's owner value, if it has one (none is made here)."""
    owners = _session_owners()
    return owners[0] if owners else None


def browser_owner() -> str:
    """A random value kept in this browser's session: transactions are bound to it."""
    if OWNER_KEY not in session:
        session[OWNER_KEY] = session_owner() or secrets.token_urlsafe(16)
    return session[OWNER_KEY]


@dataclass(kw_only=True)
class JourneyTransaction:
    """The fields and store handling both journeys' transactions share; a subclass names
    its store prefix, session key, lifetime setting, reasons to stop and audit action."""
    PREFIX: ClassVar[str]            # store key prefix, "signup:"
    SESSION_KEY: ClassVar[str]       # the session key naming this browser's transaction
    LIFETIME_SETTING: ClassVar[str]  # minutes, from the transaction's start
    STOP_REASONS: ClassVar[type[StrEnum]]
    STOPPED_EVENT: ClassVar[str]     # audited with the reason when the journey stops

    owner: str
    step: str
    stop_reason: StrEnum | None = None
    id: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    created: float = field(default_factory=time.time)

    def __post_init__(self):
        # Read back from the store's JSON as a plain string: typed again here.
        if self.stop_reason is not None:
            self.stop_reason = self.STOP_REASONS(self.stop_reason)

    @classmethod
    def lifetime(cls) -> int:
        return int(float(current_app.config[cls.LIFETIME_SETTING]) * 60)

    @property
    def key(self) -> str:
        return self.PREFIX + self.id

    def remaining(self) -> int:
        return int(self.created + self.lifetime() - time.time())

    def save(self):
        """Store it (its lifetime runs from its start) and bind it to this browser."""
        store().set(self.key, asdict(self), max(self.remaining(), 1))
        session[self.SESSION_KEY] = self.id
        return self

    def forget(self) -> None:
        store().delete(self.key)
        session.pop(self.SESSION_KEY, None)

    def stop(self, reason: StrEnum) -> None:
        """The journey cannot go on: the "stopped" page says why and what to do."""
        self.step, self.stop_reason = "stopped", self.STOP_REASONS(reason)
        self.save()
        record(self.STOPPED_EVENT, reason=self.stop_reason.value)

    def rebind(self) -> None:
        """Signed in on the way (a new session, the old one's values dropped): this
        browser still owns the transaction."""
        session[OWNER_KEY] = self.owner

    @classmethod
    def load(cls, tx_id: str | None):
        """The transaction stored under that id, whoever owns it (or None). Fields a
        newer or older version stored and this one does not know are left out."""
        data = store().get(cls.PREFIX + tx_id) if tx_id else None
        if not data:
            return None
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @classmethod
    def current(cls):
        """This browser's transaction, or None (expired, or never started here)."""
        tx = cls.load(session.get(cls.SESSION_KEY))
        if tx is None or not any(hmac.compare_digest(tx.owner.encode(), owner.encode())
                                 for owner in _session_owners()):
            return None
        return tx

    @classmethod
    def had_expired(cls) -> bool:
        return bool(session.get(cls.SESSION_KEY)) and cls.current() is None
