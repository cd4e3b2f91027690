"""The school's dashboard (issue 20, point 4): where activation stands, per school and per
class, the list behind each figure, a search and a CSV export.

A school's population is what its records say (roster imports): its pupils' accounts and
the accounts of their legal representatives (school records, RecordGuardianLink), each
with the classes of the pupils concerned; a representative with children in two classes
counts in both, once in the school's total. Deleted accounts (tombstones) are left out.

The population is read in two indexed queries (pupil records by school, then their
representatives through the record links: pupil_records.school_id,
record_guardian_links.pupil_record_id, primary keys), a few thousand rows for a large
lycée, and counted and filtered here: a school is bounded (3,000 pupils, 5,000
representatives), the IdP is not, so no query grows with the IdP (bench/dashboard_bench.py).
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from .. import models
from ..db import db
from ..models import (Account, AccountState, PupilRecord, RecordGuardianLink,
                      RepresentativeRecord, School)
from ..models.base import as_utc
from ..roster.letters import select_accounts

# Dashboard states (the school's words), from the account states.
STATES = ("activated", "pending_email", "never_activated", "deactivated")
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
        return max(0, math.ceil((self.deadline - now).total_seconds() / 86400))

    def add(self, member: Member) -> None:
        self.issued += 1
        self.counts[member.state] += 1
        if member.state in WAITING and member.deadline is not None \
                and (self.deadline is None or member.deadline < self.deadline):
            self.deadline = member.deadline


def _columns():
    fc = getattr(models, "FranceConnectLink", None)  # issue 19's links, once present
    cols = [Account.id, Account.identifier, Account.first_name, Account.last_name,
            Account.profile, Account.state, Account.email, Account.email_verified,
            Account.issued_at, Account.activation_deadline, PupilRecord.class_name,
            PupilRecord.first_name.label("pupil_first"),
            PupilRecord.last_name.label("pupil_last")]
    return cols + ([fc.id.label("fc")] if fc is not None else []), fc


def _origin(row) -> str:
    if getattr(row, "fc", None) is not None:
        return "franceconnect"
    # The school made it (a letter printed, or still waiting for its first letter: J4
    # never makes a provisional account); otherwise the family registered by SMS (J4).
    school_made = row.issued_at is not None or row.state == AccountState.provisional
    return "letter" if school_made else "sms"


def population(school: School) -> list[Member]:
    """Every account of the school (pupils first, then representatives), in two queries."""
    cols, fc = _columns()
    pupils = select(*cols).select_from(PupilRecord).join(
        Account, Account.id == PupilRecord.account_id)
    reps = (select(*cols).select_from(PupilRecord)
            .join(RecordGuardianLink, RecordGuardianLink.pupil_record_id == PupilRecord.id)
            .join(RepresentativeRecord,
                  RepresentativeRecord.id == RecordGuardianLink.representative_record_id)
            .join(Account, Account.id == RepresentativeRecord.account_id))
    members: dict[int, Member] = {}
    for stmt in (pupils, reps):
        if fc is not None:
            stmt = stmt.outerjoin(fc, fc.account_id == Account.id)
        stmt = stmt.where(PupilRecord.school_id == school.id,
                          Account.state != AccountState.deleted)
        for row in db.session.execute(stmt):
            member = members.get(row.id)
            if member is None:
                member = members[row.id] = Member(
                    row.id, row.identifier, row.first_name, row.last_name, row.profile.value,
                    _STATE_OF[row.state], row.email, row.email_verified, _origin(row),
                    as_utc(row.activation_deadline))
            if row.class_name:
                member.classes.add(row.class_name)
            member.pupils.append(f"{row.pupil_first} {row.pupil_last}")
    return list(members.values())


def figures(members: list[Member]) -> tuple[Figures, list[Figures]]:
    """The school's figures and each class's, classes in order."""
    school = Figures(None)
    classes: dict[str, Figures] = {}
    for member in members:
        school.add(member)
        for class_name in member.classes:
            classes.setdefault(class_name, Figures(class_name)).add(member)
    return school, [classes[name] for name in sorted(classes)]


def _words(text: str | None) -> list[str]:
    return [w.casefold() for w in (text or "").split()][:5]


def _has_words(haystack: str, words: list[str]) -> bool:
    haystack = haystack.casefold()
    return all(w in haystack for w in words)


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

    def matches(self, m: Member) -> bool:
        if self.class_name and self.class_name not in m.classes:
            return False
        if self.state and m.state != self.state:
            return False
        if self.origin and m.origin != self.origin:
            return False
        if self.profile and m.profile != self.profile:
            return False
        if self.email and self.email.strip().casefold() not in (m.email or "").casefold():
            return False
        if self.q and not _has_words(f"{m.identifier} {m.first_name} {m.last_name}",
                                     _words(self.q)):
            return False
        if self.pupil:
            words = _words(self.pupil)
            if not any(_has_words(name, words) for name in m.pupils):
                return False
        return True

    def as_args(self) -> dict:
        return {k: v for k, v in {"q": self.q, "eleve": self.pupil, "classe": self.class_name,
                                  "etat": self.state, "email": self.email,
                                  "origine": self.origin, "profil": self.profile}.items() if v}


def search(members: list[Member], filters: Filters) -> list[Member]:
    """The members matching every filter, by name."""
    found = [m for m in members if filters.matches(m)]
    return sorted(found, key=lambda m: (m.last_name.casefold(), m.first_name.casefold(),
                                        m.identifier))


def to_csv(members: list[Member], labels: dict) -> str:
    """A list as CSV (semicolons, as French spreadsheets expect; UTF-8 with BOM).
    `labels` translates states, origins and profiles."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["identifiant", "nom", "prenom", "profil", "etat", "origine", "email",
                     "email_confirme", "classes", "eleves", "date_limite"])
    for m in members:
        writer.writerow([m.identifier, _cell(m.last_name), _cell(m.first_name),
                         labels[m.profile], labels[m.state], labels[m.origin],
                         _cell(m.email or ""), "oui" if m.email_verified else "non",
                         ", ".join(sorted(m.classes)), _cell(", ".join(m.pupils)),
                         m.deadline.date().isoformat() if m.deadline else ""])
    return out.getvalue()


def _cell(value: str) -> str:
    # A cell a spreadsheet would run as a formula is made plain text (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def never_activated_of_class(school: School, class_name: str) -> list[Account]:
    """What a bulk "Nouveau courrier" for the class touches: its pupils and their
    representatives whose accounts were never activated (exactly roster.issue_letters')."""
    return select_accounts(school, class_name=class_name)

