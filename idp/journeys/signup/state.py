"""The sign-up transaction: where a family is in "Je n'ai pas de compte", in the store.

One transaction per attempt with a fixed lifetime (SIGNUP_MINUTES from its start), bound
to this browser; the store and session handling are shared with FranceConnect's first
link (journeys/transactions.py). What the matching found (which records, whether an
account exists) stays here, server-side: the pages never tell it.

The identity form carries a random `attempt` value: a double submit of that form finds
the transaction the first submit made (store `add`), so it never sends two codes.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from ...extensions import store
from ...roster.names import fold
from ..transactions import JourneyTransaction
from .matching import MatchOutcome


class StopReason(StrEnum):
    """Why the journey cannot go on (the "stopped" page says what to do)."""
    birth_dates = "birth_dates"  # too many wrong birth dates
    no_pupil = "no_pupil"        # the representative of none of the pupils listed
    already = "already"          # another browser made the account first


@dataclass(kw_only=True)
class SignupTransaction(JourneyTransaction):
    PREFIX = "signup:"
    SESSION_KEY = "signup_tx"
    LIFETIME_SETTING = "SIGNUP_MINUTES"
    STOP_REASONS = StopReason
    STOPPED_EVENT = "signup_stopped"

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

    def __post_init__(self):
        super().__post_init__()
        self.outcome = MatchOutcome(self.outcome)  # read back from JSON as a string

    def same_details(self, first_name: str, last_name: str, phone: str) -> bool:
        return (fold(first_name), fold(last_name), phone) == \
            (fold(self.first_name), fold(self.last_name), self.phone)


def claim_attempt(attempt: str | None, tx_id: str) -> str:
    """The transaction id for this submission of the identity form: `tx_id` for the
    first submit of the page, the first submit's id for a repeat (double submit)."""
    if not attempt or len(attempt) > 64:
        return tx_id
    key = "signup-attempt:" + hashlib.sha256(attempt.encode()).hexdigest()
    if store().add(key, tx_id, SignupTransaction.lifetime()):
        return tx_id
    return store().get(key) or tx_id
