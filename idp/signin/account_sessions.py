"""Every session of one account: the index that lists them and the one way to end them
all (a new password, a new letter, "Se déconnecter partout", "Ce n'était pas moi", a
closed or retired account...).

Sessions live in the store under their cookie id; an index per account ("acct-sessions:
<id>") lists them, written once per session after sign-in (journeys/home/sessions.py).
The index is informative only: `end_account_sessions` bumps `Account.session_epoch`,
which ends every session of the account whether it is listed or not
(session.current_account); the listed ones are also announced to the protocol adapters,
so relying parties hear of them (OIDC back-channel logout, queued in the outbox).
"""
from __future__ import annotations

import logging

from flask import has_request_context, session

from ..extensions import store
from ..models import Account
from ..roster.letters import SESSION_ENDERS
from .registry import adapters
from .session import announce_end

log = logging.getLogger(__name__)


def index_key(account_id: int) -> str:
    return f"acct-sessions:{account_id}"


def index_ttl(app_config) -> int:
    return int(app_config["SESSION_ABSOLUTE_HOURS"]) * 3600


def end_account_sessions(account: Account, *, reason: str,
                         keep_this_session: bool = False) -> int:
    """End every session of `account`: each listed session but this browser's is
    announced (its relying parties told by back channel) and deleted, and the epoch bump
    ends any other; every relying party's refresh tokens (and the access tokens of their
    grants) stop too. This browser's session is never announced
    here: with `keep_this_session` it stays signed in, otherwise the epoch ends it at its
    next request (a caller signing it out now calls session.end_session). `reason` names
    the cause in the log. Works outside a request too (the CLI). Returns how many other
    sessions were listed."""
    this_sid = session.sid if has_request_context() else None
    entries = store().get(index_key(account.id)) or {}
    ended = 0
    for sid in entries:
        if sid == this_sid:
            continue
        data = store().get("sess:" + sid)
        if data and data.get("account_id") == account.id:
            announce_end(data)
            store().delete("sess:" + sid)
            ended += 1
    store().delete(index_key(account.id))
    account.session_epoch = (account.session_epoch or 0) + 1
    for adapter in adapters():
        adapter.revoke(account)  # every relying party's tokens
    if keep_this_session and has_request_context() \
            and session.get("account_id") == account.id:
        session["epoch"] = account.session_epoch
    log.info("sessions of account %s ended (%s): %d other listed, tokens revoked",
             account.id, reason, ended)
    return ended


def _end_for_new_letter(account: Account) -> None:
    end_account_sessions(account, reason="new_letter")


# A new letter for an account in use (roster/letters.py, a layer below) ends its sessions here.
if _end_for_new_letter not in SESSION_ENDERS:
    SESSION_ENDERS.append(_end_for_new_letter)
