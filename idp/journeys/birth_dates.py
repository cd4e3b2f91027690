"""Wrong birth dates, counted one way wherever a verified mobile number leads to the
pupils a school links to it: J4 sign-up, FranceConnect's first link and "Ajouter un
enfant" by SMS (family/attach_by_phone.py).

The count is an atomic counter in the store, one per attempt (requests sent side by side
each count: a count kept in the session lost them), against one limit,
SIGNUP_BIRTH_DATE_MAX_FAILURES. For the signed-out journeys (sign-up, FranceConnect)
reaching it also blocks the number for a day, for both: a new transaction (a new SMS)
brings no new tries. A signed-in account's attempt ends, and its owner is sent to the
school, without blocking the number.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app

from ..audit import record
from ..extensions import store
from .transactions import JourneyTransaction

BLOCK_SECONDS = 86400


def matches(pupil, value: date) -> bool:
    """The date typed is the one the school's record holds for that pupil."""
    return pupil.birth_date == value


def limit() -> int:
    return int(current_app.config["SIGNUP_BIRTH_DATE_MAX_FAILURES"])


def _blocked_key(phone: str) -> str:
    return f"signup-blocked:{phone}"  # J4's name, from before FranceConnect shared it


def number_blocked(phone: str) -> bool:
    return bool(store().get(_blocked_key(phone)))


@dataclass(frozen=True)
class Count:
    failures: int  # wrong so far in this attempt
    left: int      # tries left, never below zero

    @property
    def over(self) -> bool:
        return self.left == 0


def count_wrong(key: str, lifetime: int, wrong: int = 1, *,
                block_number: str | None = None) -> Count:
    """`wrong` more wrong dates for the attempt counted under `key` (its count lives
    `lifetime` seconds from the first); none: the count so far. At the limit,
    `block_number` (when given) is blocked for a day."""
    failures = 0 if wrong > 0 else int(store().get(key) or 0)
    for _ in range(wrong):
        failures = store().incr(key, lifetime)
    left = max(limit() - failures, 0)
    if left == 0 and block_number:
        store().set(_blocked_key(block_number), 1, BLOCK_SECONDS)
    return Count(failures, left)


def stop_if_blocked(tx: JourneyTransaction) -> bool:
    """A signed-out journey's code just verified: its number blocked today stops it
    before the pupils page."""
    if not number_blocked(tx.phone):
        return False
    tx.stop("birth_dates")
    return True


def count_journey_failure(tx: JourneyTransaction, counter: str, event: str) -> int:
    """One more wrong submission of a signed-out journey's pupils page, counted for its
    transaction under `counter`:tx.id and audited as `event`; at the limit the number is
    blocked and the journey stops. Returns the tries left."""
    count = count_wrong(f"{counter}:{tx.id}", max(tx.remaining(), 1), block_number=tx.phone)
    record(event, failures=count.failures)
    if count.over:
        tx.stop("birth_dates")
    return count.left
