"""TOTP second factor (RFC 6238, pyotp) and recovery codes, shared by families' optional
second factor and staff accounts' mandatory one.

- The TOTP secret must be readable to verify codes, so it is stored sealed (Fernet,
  AES-128-CBC + HMAC), never in clear, with TOTP_SEALING_KEYS (cryptography's
  MultiFernet: the first key seals, every key opens, so the key rotates: `reseal` moves a
  secret under the first key). Nothing else shares that key (idp/secret_settings.py).
- A code is accepted once: the time step it matched is remembered in the store, so a code
  seen on a shoulder or replayed by a proxy is refused.
- Recovery codes are random, shown once, stored as SHA-256 hashes, each usable once.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from ..secret_settings import entries

from ..extensions import store

ISSUER_LABEL = "Connexion Scolarité"
DIGITS = 6
STEP = 30


@functools.lru_cache(maxsize=8)
def _keys(configured: tuple[str, ...]) -> tuple[Fernet, MultiFernet]:
    fernets = [Fernet(key.encode()) for key in configured]  # checked at start-up
    return fernets[0], MultiFernet(fernets)


def _sealing() -> tuple[Fernet, MultiFernet]:
    """(the key that seals, all the keys that open)."""
    configured = tuple(entries(current_app.config.get("TOTP_SEALING_KEYS")))
    if not configured:  # start-up refuses this; a test may have changed the setting
        raise RuntimeError("no TOTP sealing key: set IDP_TOTP_SEALING_KEYS")
    return _keys(configured)


def new_secret() -> str:
    return pyotp.random_base32()


def seal(secret: str) -> str:
    """The secret as stored in the database (under the first sealing key)."""
    return _sealing()[0].encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The secret, or None when no sealing key opens `sealed`."""
    try:
        return _sealing()[1].decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        if sealed:  # a stored secret no key opens: a sealing key left out of the setting?
            current_app.logger.warning("a TOTP secret opens with none of the "
                                       "IDP_TOTP_SEALING_KEYS")
        return None


def reseal(sealed: str) -> str | None:
    """`sealed` under the first sealing key: the same text when it already is, None when
    no key opens it (left as it is: never lose a second factor)."""
    first, every = _sealing()
    token = sealed.encode()
    try:
        first.decrypt(token)
        return sealed
    except (InvalidToken, ValueError):
        pass
    try:
        return every.rotate(token).decode()
    except (InvalidToken, ValueError):
        return None


def provisioning_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER_LABEL)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code (no image request, no script: fits the CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#1b1b1f", light="#ffffff")


def normalise_code(code: str | None) -> str:
    """Digits only: people type spaces and dashes ("123 456")."""
    return "".join(ch for ch in (code or "") if ch.isdigit())


def verify(secret: str, code: str | None, *, replay_key: str, now: float | None = None) -> bool:
    """True for a current code (one step of drift allowed) not used before."""
    code = normalise_code(code)
    if len(code) != DIGITS:
        return False
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    counter = int(now // STEP)
    for drift in (0, -1, 1):
        if hmac.compare_digest(totp.at(int((counter + drift) * STEP)), code):
            # add() is atomic: of two concurrent uses of one code only one succeeds.
            return store().add(f"totp-used:{replay_key}:{counter + drift}", 1, STEP * 4)
    return False


def new_recovery_codes(count: int = 10) -> list[str]:
    """Codes like "k7qm-2xvp-9dra" (60 bits each), to be shown once."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
            for _ in range(count)]


def looks_like_recovery_code(code: str | None) -> bool:
    """Twelve letters and digits, dashes and spaces aside (a TOTP code is six digits; a
    recovery code may well hold six digits among its twelve characters)."""
    return len([ch for ch in code or "" if ch.isalnum()]) == 12


def hash_recovery_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(cleaned.encode()).hexdigest()
