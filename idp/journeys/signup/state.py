"""The sign-up transaction: where a family is in "Je n'ai pas de compte", in the store.

One transaction per attempt, under a random id named only by the browser's server-side
session, with a fixed lifetime (SIGNUP_MINUTES from its start). It is plain JSON, so a
journey begun on one process goes on on another. What the matching found (which records,
whether an account exists) stays here, server-side: the pages never tell it.

The identity form carries a random `attempt` value: a double submit of that form finds
the transaction the first submit made (store `add`), so it never sends two codes.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from flask import current_app, session

from ...extensions import store
from ...roster.names import fold
from .matching import MatchOutcome

SESSION_KEY = "signup_tx"
OWNER_KEY = "signup_owner"


def lifetime() -> int:
    return int(float(current_app.config["SIGNUP_MINUTES"]) * 60)


def browser_owner() -> str:
    """A random value kept in this browser's session: transactions are bound to it."""
    if OWNER_KEY not in session:
        session[OWNER_KEY] = secrets.token_urlsafe(16)
    return session[OWNER_KEY]


class StopReason(StrEnum):
    """Why the journey cannot go on (the "stopped" page says what to do)."""
    birth_dates = "birth_dates"  # too many wrong birth dates
    no_pupil = "no_pupil"        # the representative of none of the pupils listed
    already = "already"          # another browser made the account first


@dataclass
class SignupTransaction:
    owner: str
    first_name: str
    last_name: str
    phone: str                 # E.164, checked by parse_mobile
    raw_phone: str             # as typed, to give the form back unchanged
    region: str
    outcome: MatchOutcome      # what the records said (matching.py)
    record_ids: list = field(default_factory=list)   # matched representative records
    account_id: int | None = None   # adopt: the provisional account; done: the account
    identifier: str | None = None   # done: the identifier to note down
    step: str = "code"
    pupil_ids: list = field(default_factory=list)    # pupil records, in page order
    answers: dict = field(default_factory=dict)      # str(pupil id) -> "yes" | "no"
    dates: dict = field(default_factory=dict)        # str(pupil id) -> [JJ, MM, AAAA] typed
    stop_reason: StopReason | None = None
    id: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    created: float = field(default_factory=time.time)

    def __post_init__(self):
        # Read back from the store's JSON as plain strings: typed again here.
        self.outcome = MatchOutcome(self.outcome)
        if self.stop_reason is not None:
            self.stop_reason = StopReason(self.stop_reason)

    @property
    def key(self) -> str:
        return "signup:" + self.id

    def remaining(self) -> int:
        return int(self.created + lifetime() - time.time())

    def save(self) -> "SignupTransaction":
        """Store it (its lifetime runs from its start) and bind it to this browser."""
        store().set(self.key, asdict(self), max(self.remaining(), 1))
        session[SESSION_KEY] = self.id
        return self

    def same_details(self, first_name: str, last_name: str, phone: str) -> bool:
        return (fold(first_name), fold(last_name), phone) == \
            (fold(self.first_name), fold(self.last_name), self.phone)

    @classmethod
    def load(cls, tx_id: str | None) -> "SignupTransaction | None":
        if not tx_id:
            return None
        data = store().get("signup:" + tx_id)
        return cls(**data) if data else None

    @classmethod
    def current(cls) -> "SignupTransaction | None":
        """This browser's transaction, or None (expired, or never started here)."""
        tx = cls.load(session.get(SESSION_KEY))
        if tx is None or not hmac.compare_digest(tx.owner.encode(),
                                                 session.get(OWNER_KEY, "").encode()):
            return None
        return tx

    @classmethod
    def had_expired(cls) -> bool:
        return bool(session.get(SESSION_KEY)) and cls.current() is None


def claim_attempt(attempt: str | None, tx_id: str) -> str:
    """The transaction id for this submission of the identity form: `tx_id` for the
    first submit of the page, the first submit's id for a repeat (double submit)."""
    if not attempt or len(attempt) > 64:
        return tx_id
    key = "signup-attempt:" + hashlib.sha256(attempt.encode()).hexdigest()
    if store().add(key, tx_id, lifetime()):
        return tx_id
    return store().get(key) or tx_id
