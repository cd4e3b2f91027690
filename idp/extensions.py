"""Per-app services, built once in create_app and reached through these accessors."""
from __future__ import annotations

from flask import current_app
from flask_wtf.csrf import CSRFProtect

# CSRF on every POST (Flask-WTF); protocol endpoints called by servers are exempted by
# their adapter's init_app.
csrf = CSRFProtect()


def _ext(name: str):
    return current_app.extensions["idp"][name]


def store():
    """The short-lived state store (Redis or embedded)."""
    return _ext("store")


def passwords():
    """The argon2id hasher (built once: the dummy hash is made at start-up)."""
    return _ext("passwords")


def admission():
    """The sign-in waiting room of this process (security/admission.py)."""
    return _ext("admission")


def throttle():
    return _ext("throttle")


def keyring():
    return _ext("keyring")


def academies() -> dict[str, str]:
    """Academy code -> name, from config/academies.toml (loaded once)."""
    return _ext("academies")
