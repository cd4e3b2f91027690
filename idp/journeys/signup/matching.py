"""Finding the family in the school records from a surname, a first name and a mobile.

The representative records holding that number are read in one indexed query (with their
account's state and the number of pupils linked), then the names are compared folded:
without case, accents, hyphens, apostrophes or spaces ("Le Gall-Hervé" = "le gall herve").
A record matches only with at least one pupil. The same person may have several records
(two academies, names spelt two ways): all are kept, the first is the one the new account
is tied to, and the pupils of all are listed (siblings in several schools).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, select

from ...db import db
from ...models import (Account, AccountState, PupilRecord, RecordGuardianLink,
                       RepresentativeRecord, School)
from ...roster.names import fold

# An account its owner can already sign in with (or that the school closed): sign-up
# sends its identifier by SMS instead of making a second one.
HAS_ACCOUNT = (AccountState.active, AccountState.pending_email, AccountState.deactivated)


class MatchOutcome(StrEnum):
    """What the records say about the details typed (kept in the transaction's JSON as
    its string value)."""
    new = "new"            # records, no account yet: one is made
    adopt = "adopt"        # records and a provisional account: the family takes it over
    existing = "existing"  # an account its owner can use: its identifier goes by SMS
    none = "none"          # nothing matches: no code is sent, nothing is told

    @property
    def makes_account(self) -> bool:
        """The journey goes on (a code is sent) only when it ends in an account."""
        return self in (MatchOutcome.new, MatchOutcome.adopt)


@dataclass
class Match:
    outcome: MatchOutcome
    record_ids: list = field(default_factory=list)
    account_id: int | None = None  # adopt: the provisional account; existing: the account
    identifier: str | None = None  # existing: sent by SMS


@dataclass(frozen=True)
class ListedPupil:
    id: int
    first_name: str
    last_name: str
    birth_date: object
    class_name: str | None
    school_id: int
    school_name: str
    account_id: int | None


def find_family(first_name: str, last_name: str, phone: str) -> Match:
    """What the school records say about this person (one query, the same work whether
    or not anything matches)."""
    R, L = RepresentativeRecord, RecordGuardianLink
    pupils = select(func.count(L.id)).where(L.representative_record_id == R.id) \
        .correlate(R).scalar_subquery()
    rows = db.session.execute(
        select(R.id, R.first_name, R.last_name, R.account_id, Account.state,
               Account.identifier, pupils.label("pupils"))
        .outerjoin(Account, Account.id == R.account_id)
        .where(R.phone == phone).order_by(R.id)).all()
    wanted = (fold(last_name), fold(first_name))
    same = [r for r in rows if (fold(r.last_name), fold(r.first_name)) == wanted
            and r.pupils]
    if not wanted[0] or not wanted[1] or not same:
        return Match(MatchOutcome.none)
    ids = [r.id for r in same]
    for r in same:
        if r.state in HAS_ACCOUNT:
            return Match(MatchOutcome.existing, ids, r.account_id, r.identifier)
    primary = same[0]
    if primary.state == AccountState.provisional:
        return Match(MatchOutcome.adopt, ids, primary.account_id)
    return Match(MatchOutcome.new, ids)


def listed_pupils(record_ids: list[int]) -> list[ListedPupil]:
    """The pupils linked to these records, each once, by school then first name."""
    if not record_ids:
        return []
    P, L = PupilRecord, RecordGuardianLink
    rows = db.session.execute(
        select(P.id, P.first_name, P.last_name, P.birth_date, P.class_name, P.school_id,
               School.name, P.account_id)
        .join(L, L.pupil_record_id == P.id).join(School, School.id == P.school_id)
        .where(L.representative_record_id.in_(record_ids))
        .order_by(School.name, P.first_name, P.id)).all()
    seen, out = set(), []
    for r in rows:
        if r.id not in seen:
            seen.add(r.id)
            out.append(ListedPupil(r.id, r.first_name, r.last_name, r.birth_date,
                                   r.class_name, r.school_id, r.name, r.account_id))
    return out


def pupils_of(tx) -> list[ListedPupil]:
    """The pupils of a transaction's pupils page (sign-up's, FranceConnect's first
    link's): those of its `record_ids`, in the order it fixed (`pupil_ids`)."""
    by_id = {p.id: p for p in listed_pupils(tx.record_ids)}
    return [by_id[i] for i in tx.pupil_ids if i in by_id]
