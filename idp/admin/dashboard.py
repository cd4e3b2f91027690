"""The school's dashboard (issue 20, point 4): where activation stands, per school and per
class, the list behind each figure, a search and a CSV export.

A school's population is what its records say (roster imports): its pupils' accounts and
the accounts of their legal representatives (school records, RecordGuardianLink), each
with the classes of the pupils concerned; a representative with children in two classes
counts in both, once in the school's total. Deleted accounts (tombstones) are left out.

The population is read by school_population.py, one table at a time through an index,
so its cost follows the school's size, never the IdP's. Figures are counted here; a list
or a search puts its filters in the WHERE of the records' query (class, pupil) and the
accounts' (state, origin, email, name).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import DateTime, and_, not_, or_, type_coerce

from ..local_time import to_paris
from ..models import Account, AccountState, FranceConnectLink, PupilRecord, School
from ..models.base import as_utc
from . import school_population as population
from .spreadsheet import BOM, csv_line, plain_cell

# Dashboard states (the school's words), from the account states.
STATES = ("activated", "pending_email", "never_activated", "deactivated")
_ACCOUNT_STATE = {"activated": AccountState.active, "pending_email": AccountState.pending_email,
                  "never_activated": AccountState.provisional,
                  "deactivated": AccountState.deactivated}
_STATE_OF = {AccountState.active: "activated", AccountState.pending_email: "pending_email",
             AccountState.provisional: "never_activated",
             AccountState.deactivated: "deactivated"}
ORIGINS = ("letter", "sms", "franceconnect")
PROFILES = ("pupil", "parent")
WAITING = ("pending_email", "never_activated")


@dataclass
class Member:
    """One account of the school's population."""
    id: int
    identifier: str
    first_name: str
    last_name: str
    profile: str
    state: str
    email: str | None
    email_verified: bool
    origin: str
    deadline: datetime | None
    classes: set[str] = field(default_factory=set)
    pupils: list[str] = field(default_factory=list)  # pupils' names (own name for a pupil)


@dataclass
class Figures:
    """The counts of one class (or of the school when `class_name` is None)."""
    class_name: str | None
    issued: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    deadline: datetime | None = None  # the earliest deadline of a waiting account

    @property
    def rate(self) -> float:
        return round(100 * self.counts["activated"] / self.issued, 1) if self.issued else 0.0

    def days_left(self, now: datetime) -> int | None:
        if self.deadline is None:
            return None
        return max(0, math.ceil((as_utc(self.deadline) - now).total_seconds() / 86400))

    def add_group(self, state: str, count: int, deadline: datetime | None) -> None:
        """`count` accounts in `state`, the earliest of their deadlines `deadline`."""
        self.issued += count
        self.counts[state] += count
        if state in WAITING and deadline is not None \
                and (self.deadline is None or deadline < self.deadline):
            self.deadline = deadline


# The deadline as the driver gives it (aware on PostgreSQL, naive UTC on SQLite), compared
# as is and made aware UTC only where shown (as_utc): turning 8,000 values into UTC one by
# one cost more than the dashboard's queries.
_RAW_DEADLINE = type_coerce(Account.activation_deadline,
                            DateTime(timezone=True)).label("activation_deadline")


def _origin(row) -> str:
    """The rule of journeys/franceconnect/linked.origin, on a row: made by a first
    FranceConnect link (and no letter); else the school made it (a letter printed, or
    one still to come: J4 never makes a provisional account); else the family registered
    by SMS (J4)."""
    if row.fc_created and row.issued_at is None:
        return "franceconnect"
    school_made = row.issued_at is not None or row.state == AccountState.provisional
    return "letter" if school_made else "sms"


def _origin_clause(origin: str):
    """_origin as SQL (the FranceConnect link outer-joined by population.accounts)."""
    school_made = or_(Account.issued_at.is_not(None), Account.state == AccountState.provisional)
    fc_made = and_(FranceConnectLink.created_account.is_(True), Account.issued_at.is_(None))
    if origin == "franceconnect":
        return fc_made
    if origin == "letter":
        return school_made
    return and_(not_(school_made), not_(fc_made))


def _like(word: str):
    return "%" + word.replace("\\", "").replace("%", "").replace("_", "\\_") + "%"


def figures(school: School) -> tuple[Figures, list[Figures]]:
    """The school's figures and each class's, classes in order."""
    pairs = population.pairs(school)
    rows = population.accounts([p.account_id for p in pairs], [Account.state, _RAW_DEADLINE])
    states = {i: (_STATE_OF[r.state], r.activation_deadline) for i, r in rows.items()}
    total = Figures(None)
    for state, deadline in states.values():
        total.add_group(state, 1, deadline)
    members: dict[str, set[int]] = {}
    for pair in pairs:
        if pair.class_name and pair.account_id in states:
            members.setdefault(pair.class_name, set()).add(pair.account_id)
    classes = []
    for name in sorted(members):
        figures_ = Figures(name)
        for account_id in members[name]:
            state, deadline = states[account_id]
            figures_.add_group(state, 1, deadline)
        classes.append(figures_)
    return total, classes


@dataclass
class Filters:
    """A list behind a figure, or a search: every field narrows (empty: any)."""
    q: str = ""           # name or identifier
    pupil: str = ""       # a pupil's name: the pupil and their representatives
    class_name: str = ""
    state: str = ""       # one of STATES
    email: str = ""
    origin: str = ""      # one of ORIGINS
    profile: str = ""     # one of PROFILES

    def record_clauses(self) -> list:
        """The filters on the pupil record: class, pupil's name."""
        out = []
        if self.class_name:
            out.append(PupilRecord.class_name == self.class_name)
        for word in self.pupil.split()[:5]:
            out.append(or_(PupilRecord.first_name.ilike(_like(word), escape="\\"),
                           PupilRecord.last_name.ilike(_like(word), escape="\\")))
        return out

    def account_clauses(self) -> list:
        """The filters on the account: state, origin, email, name or identifier."""
        out = []
        if self.state:
            out.append(Account.state == _ACCOUNT_STATE[self.state])
        if self.origin:
            out.append(_origin_clause(self.origin))
        if self.email.strip():
            out.append(Account.email.ilike(_like(self.email.strip()), escape="\\"))
        for word in self.q.split()[:5]:
            out.append(or_(*(column.ilike(_like(word), escape="\\") for column in
                             (Account.identifier, Account.first_name, Account.last_name))))
        return out

    def as_args(self) -> dict:
        return {k: v for k, v in {"q": self.q, "eleve": self.pupil, "classe": self.class_name,
                                  "etat": self.state, "email": self.email,
                                  "origine": self.origin, "profil": self.profile}.items() if v}


def search(school: School, filters: Filters) -> list[Member]:
    """The accounts of the school matching every filter, by name; for each, the classes
    and pupils through which it matched."""
    pairs = population.pairs(school, filters.record_clauses(), filters.profile)
    rows = population.accounts([p.account_id for p in pairs],
                               [Account.identifier, Account.first_name, Account.last_name,
                                Account.profile, Account.state, Account.email,
                                Account.email_verified, Account.issued_at, _RAW_DEADLINE],
                               filters.account_clauses())
    members: dict[int, Member] = {}
    for pair in pairs:
        row = rows.get(pair.account_id)
        if row is None:
            continue
        member = members.get(row.id)
        if member is None:
            member = members[row.id] = Member(
                row.id, row.identifier, row.first_name, row.last_name, row.profile.value,
                _STATE_OF[row.state], row.email, row.email_verified, _origin(row),
                row.activation_deadline)
        if pair.class_name:
            member.classes.add(pair.class_name)
        member.pupils.append(f"{pair.pupil_first} {pair.pupil_last}")
    return sorted(members.values(), key=lambda m: (m.last_name.casefold(),
                                                    m.first_name.casefold(), m.identifier))


def to_csv(members: list[Member], labels: dict) -> str:
    """A list as CSV (semicolons, as French spreadsheets expect; UTF-8 with BOM).
    `labels` translates states, origins and profiles."""
    header = ["identifiant", "nom", "prenom", "profil", "etat", "origine", "email",
              "email_confirme", "classes", "eleves", "date_limite"]
    return BOM + csv_line(header, ";") + "".join(csv_line([
        m.identifier, plain_cell(m.last_name), plain_cell(m.first_name), labels[m.profile],
        labels[m.state], labels[m.origin], plain_cell(m.email),
        "oui" if m.email_verified else "non", plain_cell(", ".join(sorted(m.classes))),
        plain_cell(", ".join(m.pupils)),
        to_paris(m.deadline).date().isoformat() if m.deadline else ""], ";") for m in members)
