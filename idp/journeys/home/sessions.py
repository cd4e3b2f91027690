"""The account's open sessions, for "Mes sessions ouvertes" and "Se déconnecter partout".

Sessions live in the store under their cookie id; an index per account ("acct-sessions:
<id>", signin/account_sessions.py) lists them, written here once per session after
sign-in. The index is informative only: "se déconnecter partout"
(signin.account_sessions.end_account_sessions) bumps `Account.session_epoch`, which ends
every session of the account whether it is listed or not (signin.session.current_account).
"""
from __future__ import annotations

import time

from flask import current_app, request, session

from ...extensions import store
from ...models import Account
from ...signin.account_sessions import index_key, index_ttl

_LISTED = "listed"


def device_label(user_agent: str) -> str:
    """A short, human name for the browser ("Firefox sur Android"): no version, no IP."""
    ua = user_agent or ""
    browser = next((name for token, name in (
        ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
        ("Safari/", "Safari")) if token in ua), None)
    system = next((name for token, name in (
        ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
        ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")) if token in ua), None)
    if browser and system:
        return f"{browser} — {system}"
    return browser or system or "Navigateur"


def list_new_session(response):
    """after_app_request: add a freshly signed-in session to its account's index (once
    per session; a dict lookup on every other request)."""
    if session.get("account_id") and not session.get(_LISTED) \
            and not getattr(session, "destroyed", False) and response.status_code < 500:
        key, ttl = index_key(session["account_id"]), index_ttl(current_app.config)
        now = time.time()
        entries = {sid: e for sid, e in (store().get(key) or {}).items()
                   if e.get("started", 0) > now - ttl}
        entries[session.sid] = {"started": session.get("auth_time") or now,
                                "device": device_label(request.user_agent.string)}
        store().set(key, entries, ttl)
        session[_LISTED] = True
    return response


def open_sessions(account: Account) -> list[dict]:
    """The account's live sessions, newest first, the current one marked."""
    entries = store().get(index_key(account.id)) or {}
    out = []
    for sid, entry in entries.items():
        data = session if sid == session.sid else store().get("sess:" + sid)
        if not data or data.get("account_id") != account.id \
                or data.get("epoch") != account.session_epoch:
            continue
        out.append({"started": entry.get("started", 0), "device": entry.get("device"),
                    "current": sid == session.sid})
    return sorted(out, key=lambda e: e["started"], reverse=True)

