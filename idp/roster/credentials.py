"""Provisional passwords printed on school letters.

They are random (12 characters from an alphabet without look-alikes: about 69 bits), so
a salted SHA-256 is the right hash, as for client secrets; an argon2 hash per letter would
cost minutes for a school. The account's `password_hash` meanwhile holds an argon2 hash of
a secret nobody knows (made once per process), so a sign-in on a provisional account costs
the same argon2 verification as any other and reveals nothing by its timing.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app

from ..extensions import passwords

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
GROUPS, GROUP_SIZE = 3, 4


def new_provisional_password() -> str:
    """e.g. 'Kx7m-Pq3r-Tz9w'; always has upper, lower and digit, dashes for reading aloud."""
    while True:
        groups = ["".join(secrets.choice(ALPHABET) for _ in range(GROUP_SIZE))
                  for _ in range(GROUPS)]
        password = "-".join(groups)
        if any(c.isupper() for c in password) and any(c.islower() for c in password) \
                and any(c.isdigit() for c in password):
            return password


def _normalise(password: str) -> str:
    # What a person copies from paper: spaces dropped, case kept.
    return "".join(password.split())


def hash_provisional(password: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{_normalise(password)}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def provisional_matches(stored: str | None, password: str) -> bool:
    if not stored or not password or len(password) > 200:
        return False
    try:
        scheme, salt, digest = stored.split("$", 2)
    except ValueError:
        return False
    if scheme != "sha256":
        return False
    candidate = hashlib.sha256(f"{salt}:{_normalise(password)}".encode()).hexdigest()
    return hmac.compare_digest(candidate, digest)


def provisional_password_matches(account, password: str) -> bool:
    """True when `password` is the provisional password of the letter last issued to this
    (not yet activated) account. Used by the sign-in after the argon2 check fails."""
    if account is None:
        return False
    return provisional_matches(getattr(account, "provisional_password_hash", None), password)


def locked_password_hash() -> str:
    """An argon2 hash of a random secret that is thrown away: no password opens it, and
    checking it costs what checking a real one does. Made once per process."""
    ext = current_app.extensions["idp"]
    if "locked_password_hash" not in ext:
        ext["locked_password_hash"] = passwords().hash(secrets.token_urlsafe(32))
    return ext["locked_password_hash"]
