"""The account's open sessions, for "Mes sessions ouvertes" and "Se déconnecter partout".

Sessions live in the store under their cookie id; an index per account ("acct-sessions:
<id>") lists them, written once per session after sign-in. The index is informative
only: "se déconnecter partout" bumps `Account.session_epoch`, which ends every session of
the account whether it is listed or not (signin.session.current_account).
"""
from __future__ import annotations

import time

from flask import current_app, request, session

from ...extensions import store
from ...models import Account
from ...signin.session import announce_end

_LISTED = "listed"


def _index_key(account_id: int) -> str:
    return f"acct-sessions:{account_id}"


def _index_ttl(app_config) -> int:
    return int(app_config["SESSION_ABSOLUTE_HOURS"]) * 3600


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
        key, ttl = _index_key(session["account_id"]), _index_ttl(current_app.config)
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
    entries = store().get(_index_key(account.id)) or {}
    out = []
    for sid, entry in entries.items():
        data = session if sid == session.sid else store().get("sess:" + sid)
        if not data or data.get("account_id") != account.id \
                or data.get("epoch") != account.session_epoch:
            continue
        out.append({"started": entry.get("started", 0), "device": entry.get("device"),
                    "current": sid == session.sid})
    return sorted(out, key=lambda e: e["started"], reverse=True)


def end_everywhere(account: Account) -> int:
    """End every session of the account, this one included: relying parties are told
    through back-channel logout, the listed sessions are deleted and the epoch bump
    ends any other. Returns how many other sessions were listed."""
    entries = store().get(_index_key(account.id)) or {}
    ended = 0
    for sid in entries:
        if sid == session.sid:
            continue
        data = store().get("sess:" + sid)
        if data and data.get("account_id") == account.id:
            announce_end(data)
            store().delete("sess:" + sid)
            ended += 1
    store().delete(_index_key(account.id))
    account.session_epoch += 1
    return ended
