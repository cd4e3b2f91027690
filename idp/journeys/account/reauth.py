"""Sensitive changes (email, mobile, second factor) ask for the password again unless it
was typed recently in this session: at sign-in, or on the "Confirmez votre mot de passe"
page. A borrowed, unlocked session on a shared school computer then cannot take the
account over.

The page must be opened within REAUTH_WINDOW_SECONDS of the password; its form may be
sent a little later (POST_GRACE: the time to type an address or wait for an SMS).
"""
from __future__ import annotations

import functools
import time

from flask import current_app, redirect, request, session, url_for

POST_GRACE = 15 * 60
_TARGETS: set[str] = set()  # the pages reauthenticate may send the browser back to


def _last_password_time() -> float:
    return max(float(session.get("auth_time") or 0), float(session.get("reauth_at") or 0))


def is_recent(grace: float = 0) -> bool:
    window = int(current_app.config["REAUTH_WINDOW_SECONDS"])
    return time.time() - _last_password_time() <= window + grace


def mark_reauthenticated() -> None:
    session["reauth_at"] = time.time()


def safe_target(endpoint: str | None) -> str:
    return endpoint if endpoint in _TARGETS else "account.index"


def require_recent_password(page: str):
    """Decorate a sensitive view; `page` is the GET endpoint to come back to after the
    password is confirmed."""
    _TARGETS.add(page)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            grace = POST_GRACE if request.method == "POST" else 0
            if not is_recent(grace):
                return redirect(url_for("account.reauthenticate", suite=page))
            return view(*args, **kwargs)

        return wrapper

    return decorate
