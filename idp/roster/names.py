"""Names folded for comparison, and ÉduConnect-style identifiers `p.nomXX`.

An identifier is the first-name initial, a dot and the surname folded to lower-case ASCII
(accents, spaces, hyphens and apostrophes dropped), followed by the smallest number that
makes it unique across the whole IdP: `l.durand`, then `l.durand1`, `l.durand2`...
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

from sqlalchemy import String, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from ..db import db
from ..models import Account

# Letters NFKD does not take apart.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss",
                            "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d",
                            "ı": "i", "þ": "th", "ð": "d"})
_NOT_LETTER = re.compile(r"[^a-z]")
_SPACES = re.compile(r"\s+")
SURNAME_MAX = 40
# PostgreSQL: one transaction at a time allocates identifiers (held until commit).
_ALLOCATION_LOCK = 4_240_001


def fold(value: str) -> str:
    """Lower-case ASCII letters only: 'Le Gall-Hervé' -> 'legallherve'."""
    decomposed = unicodedata.normalize("NFKD", (value or "").translate(_LIGATURES))
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_LETTER.sub("", ascii_only.lower())


@lru_cache(maxsize=65536)  # names repeat across a roster
def fold_words(value: str) -> str:
    """Folded but keeping word boundaries, for matching people: 'Jean-Marc  DUPONT' and
    'jean marc dupont' give the same."""
    return " ".join(fold(word) for word in _SPACES.split(re.sub(r"[-'’]", " ", value or ""))
                    if fold(word))


def clean_name(value: str) -> str:
    """A name as printed: trimmed, inner spaces collapsed (case kept as the school wrote it)."""
    return _SPACES.sub(" ", (value or "").strip())


def identifier_stem(first_name: str, last_name: str) -> str:
    """'Léo', 'Durand' -> 'l.durand' (an unusable script falls back to 'x.compte')."""
    initial = fold(first_name)[:1] or "x"
    surname = fold(last_name)[:SURNAME_MAX] or "compte"
    return f"{initial}.{surname}"


def _taken_numbers(stems: set[str]) -> dict[str, set[int]]:
    """For each stem, the numbers already used (0 for the bare stem): one query for all
    the stems on PostgreSQL (an array parameter), chunks of IN lists elsewhere."""
    taken: dict[str, set[int]] = {stem: set() for stem in stems}
    ordered = sorted(stems)
    if db.session.get_bind().dialect.name == "postgresql":
        chunks = [[Account.identifier_stem == any_(
            bindparam("stems", ordered, type_=ARRAY(String(64))))]] if ordered else []
    else:
        chunks = [[Account.identifier_stem.in_(ordered[start:start + 1000])]
                  for start in range(0, len(ordered), 1000)]
    for where in chunks:
        for identifier, stem in db.session.execute(
                select(Account.identifier, Account.identifier_stem).where(*where)):
            suffix = identifier[len(stem):]
            if identifier.startswith(stem) and (suffix == "" or suffix.isdigit()):
                taken[stem].add(int(suffix or 0))
    return taken


def lock_allocation() -> None:
    """Serialise identifier allocation across processes until the transaction ends."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": _ALLOCATION_LOCK})


def allocate_identifiers(people: Iterable[tuple[str, str]]) -> list[str]:
    """Unique identifiers for (first_name, last_name) pairs, in order: the smallest free
    number for each stem, none repeated within the batch. Takes the allocation lock;
    the caller inserts the accounts in the same transaction."""
    people = list(people)
    stems = [identifier_stem(first, last) for first, last in people]
    lock_allocation()
    taken = _taken_numbers(set(stems))
    cursor: dict[str, int] = {}
    out = []
    for stem in stems:
        n = cursor.get(stem, 0)
        used = taken[stem]
        while n in used:
            n += 1
        used.add(n)
        cursor[stem] = n + 1
        out.append(stem if n == 0 else f"{stem}{n}")
    return out


def allocate_identifier(first_name: str, last_name: str) -> str:
    """One identifier (self-registration, operators)."""
    return allocate_identifiers([(first_name, last_name)])[0]
