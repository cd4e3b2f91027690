"""The first-link transaction: a FranceConnect identity not linked yet, on its way
through the mobile number, the SMS code and the children's birth dates.

It lives in the store (plain JSON, FRANCECONNECT_LINK_MINUTES from its start), named only
by this browser's server-side session and bound to it, like sign-up's: both are
journeys/transactions.py's. What the records said stays here, server-side.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ..transactions import JourneyTransaction


class StopReason(StrEnum):
    """Why the link cannot be made here (the page says what to do)."""
    no_match = "no_match"          # the names, the number or the children do not match
    birth_dates = "birth_dates"    # too many wrong birth dates
    ambiguous = "ambiguous"        # the identity matches two representatives
    deactivated = "deactivated"    # the representative's account is closed
    already_linked = "already_linked"  # that account is linked to another identity
    password = "password"          # too many wrong passwords for the existing account


@dataclass(kw_only=True)
class LinkTransaction(JourneyTransaction):
    PREFIX = "fc-link:"
    SESSION_KEY = "fc_link_tx"
    LIFETIME_SETTING = "FRANCECONNECT_LINK_MINUTES"
    STOP_REASONS = StopReason
    STOPPED_EVENT = "franceconnect_link_refused"

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
