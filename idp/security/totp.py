"""TOTP second factor (RFC 6238, pyotp) and recovery codes, shared by families' optional
second factor and staff accounts' mandatory one.

- The TOTP secret must be readable to verify codes, so it is stored sealed (Fernet,
  AES-128-CBC + HMAC, key derived from the app secret), never in clear.
- A code is accepted once: the time step it matched is remembered in the store, so a code
  seen on a shoulder or replayed by a proxy is refused.
- Recovery codes are random, shown once, stored as SHA-256 hashes, each usable once.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from ..extensions import store

ISSUER_LABEL = "Connexion Scolarité"
DIGITS = 6
STEP = 30


def _fernet() -> Fernet:
    key = hashlib.sha256(b"totp-seal|" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    return pyotp.random_base32()


def seal(secret: str) -> str:
    """The secret as stored in the database."""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str | None:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
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
