"""Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies").

After a successful sign-in the browser gets a signed cookie naming the account it proved
(its database id, never the identifier), a random device id and the time it was issued.
One cookie holds up to MAX_ENTRIES accounts (a family's shared computer). It is signed
with itsdangerous under the app's SECRET_KEY (salt "device-cookie", so no other signed
value of the app is accepted as one; SECRET_KEY_FALLBACKS still verify after a rotation).

A cookie counts for an account only when its signature holds, it names that account, it
is younger than DEVICE_COOKIE_DAYS and than the account's `devices_revoked_at` ("Ce
n'était pas moi", a reset), and its device id was not revoked one by one (`revoke`).
Anything else (forged, expired, another account's, unreadable) is treated as no cookie,
never as an error. What a trusted device earns is in security/throttle.py.
"""
from __future__ import annotations

import secrets
import time

from flask import after_this_request, current_app, request
from itsdangerous import BadData, URLSafeSerializer

from ..extensions import store

SALT = "device-cookie"
MAX_ENTRIES = 5


def cookie_name() -> str:
    # __Host- needs Secure; plain-HTTP local development keeps a plain name.
    return "__Host-idp_device" if current_app.config.get("SESSION_COOKIE_SECURE") \
        else "idp_device"


def _lifetime() -> int:
    return int(current_app.config.get("DEVICE_COOKIE_DAYS", 180)) * 86400


def _serializer() -> URLSafeSerializer:
    fallbacks = list(current_app.config.get("SECRET_KEY_FALLBACKS") or [])
    # itsdangerous signs with the last key and verifies with every one.
    return URLSafeSerializer([*fallbacks, current_app.config["SECRET_KEY"]], salt=SALT)


def _entries() -> list[list]:
    """The cookie's [account id, device id, issued] entries; [] when absent or not ours."""
    raw = request.cookies.get(cookie_name())
    if not raw or len(raw) > 4096:
        return []
    try:
        value = _serializer().loads(raw)
    except (BadData, ValueError, TypeError):
        return []
    if not isinstance(value, list):
        return []
    return [e for e in value if isinstance(e, list) and len(e) == 3
            and isinstance(e[0], int) and isinstance(e[1], str) and isinstance(e[2], int)]


def device_for(account) -> str | None:
    """This browser's device id for `account` when its cookie is valid for it, else None."""
    if account is None:
        return None
    now = int(time.time())
    revoked_at = getattr(account, "devices_revoked_at", None)
    not_before = revoked_at.timestamp() if revoked_at is not None else 0.0
    for account_id, device, issued in _entries():
        if account_id != account.id or issued > now + 60:
            continue
        if now - issued > _lifetime() or issued < not_before:
            continue
        if store().get(f"device:revoked:{device}"):
            continue
        return device
    return None


def account_ids() -> set[int]:
    """The accounts this browser's cookie names within its lifetime (the new-device
    notice asks whether the family used this device before)."""
    now = int(time.time())
    return {account_id for account_id, _, issued in _entries()
            if now - issued <= _lifetime() and issued <= now + 60}


def remember(account) -> str:
    """Give this browser a device cookie for `account` (kept or renewed), set on the
    response of this request. Returns the device id."""
    device = device_for(account) or secrets.token_urlsafe(16)
    kept = [e for e in _entries() if e[0] != account.id][-(MAX_ENTRIES - 1):]
    value = _serializer().dumps(kept + [[account.id, device, int(time.time())]])
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))

    @after_this_request
    def set_cookie(response):
        response.set_cookie(cookie_name(), value, max_age=_lifetime(), path="/",
                            secure=secure, httponly=True, samesite="Lax")
        return response

    return device


def revoke(device: str) -> None:
    """Revoke one device id (it stops counting for any account)."""
    store().set(f"device:revoked:{device}", 1, _lifetime())
