"""A sign-in held while its family waits for a verification slot.

The waiting page must sign in by itself, without JavaScript (a meta refresh, i.e. a GET),
so the password typed has to outlive the request that received it; it is never written
in the page, nor in the store in clear:

- the store keeps, under the ticket, the identifier, the form's CSRF token and the
  password sealed with a Fernet key (AES-128-CBC + HMAC-SHA256, cryptography) that is
  new for every hold;
- the key lives only in the browser, in an HttpOnly, SameSite=Strict cookie with the
  ticket (`ticket.key`), never in the HTML or a URL (history, Referer, logs);
- the hold lasts SIGNIN_HOLD_MINUTES at most and is deleted as soon as the held sign-in
  is answered (signed in, wrong password, throttled...).

A copy of the store alone, or of the page alone, gives no password.
"""
from __future__ import annotations

import time

from cryptography.fernet import Fernet, InvalidToken
from ...store import Store

COOKIE = "idp_attente"
SECURE_COOKIE = "__Host-idp_attente"


def cookie_name(config) -> str:
    return SECURE_COOKIE if config.get("SESSION_COOKIE_SECURE") else COOKIE


def _key(ticket: str) -> str:
    return "signin-hold:" + ticket


def hold_seconds(config) -> int:
    return int(float(config.get("SIGNIN_HOLD_MINUTES", 10)) * 60)


def hold(store: Store, config, ticket: str, identifier: str, password: str,
         csrf_token: str | None) -> str:
    """Keep this sign-in under `ticket`; returns the cookie value (ticket and key)."""
    previous = store.get(_key(ticket)) or {}
    created = previous.get("created") or time.time()
    left = hold_seconds(config) - (time.time() - created)
    key = Fernet.generate_key()
    store.set(_key(ticket), {
        "identifier": identifier, "csrf_token": csrf_token, "created": created,
        "sealed": Fernet(key).encrypt(password.encode()).decode()}, max(1, int(left)))
    # The identifier alone outlives the hold, to fill the form in if the wait expires.
    store.set("signin-hold-who:" + ticket, identifier, 24 * 3600)
    return f"{ticket}.{key.decode()}"


def last_identifier(store: Store, ticket: str) -> str | None:
    value = store.get("signin-hold-who:" + ticket)
    return value if isinstance(value, str) else None


def parse_cookie(raw: str | None) -> tuple[str, bytes] | None:
    """(ticket, key) from the cookie, None when absent or malformed."""
    if not raw or raw.count(".") != 1:
        return None
    ticket, key = raw.split(".")
    if not (8 <= len(ticket) <= 64 and len(key) == 44):
        return None
    return ticket, key.encode()


def held_identifier(store: Store, ticket: str) -> str | None:
    entry = store.get(_key(ticket))
    return entry.get("identifier") if isinstance(entry, dict) else None


def open_hold(store: Store, ticket: str, key: bytes) -> dict | None:
    """{"identifier", "password", "csrf_token"} of the held sign-in, None when it is
    gone (answered, expired) or the key does not open it."""
    entry = store.get(_key(ticket))
    if not isinstance(entry, dict):
        return None
    try:
        password = Fernet(key).decrypt(entry["sealed"].encode()).decode()
    except (InvalidToken, ValueError, KeyError):
        return None
    return {"identifier": entry.get("identifier") or "", "password": password,
            "csrf_token": entry.get("csrf_token") or ""}


def forget(store: Store, ticket: str) -> None:
    store.delete(_key(ticket), "signin-hold-who:" + ticket)
