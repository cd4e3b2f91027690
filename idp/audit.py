"""Audit trail: who did what, when, from where. Written in the request's transaction.

Never pass a password, code or token here: details are for identifiers and outcomes.
"""
from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import insert

from .db import db
from .extensions import store
from .models import AuditEvent
from .security.client_address import client_key
from .store import StoreUnavailable

_INSERT = insert(AuditEvent.__table__)  # built once (its cache key is memoised)


def record(action: str, *, actor: str | None = None, target: str | None = None,
           **details) -> None:
    in_request = has_request_context()
    ip = request.remote_addr if in_request else None
    # The request id idp/ops gave this request (the log lines carry it too).
    request_id = request.environ.get("idp.request_id") if in_request else None
    # A Core INSERT on the session's connection (its transaction): the ORM's unit of work
    # and execution layer cost more than the statement, for a row nothing reads back.
    db.session.connection().execute(_INSERT, {"action": action, "actor": actor,
                                              "target": target, "ip": ip,
                                              "request_id": request_id,
                                              "details": details})


# -- refusals anyone can cause --------------------------------------------------------------
# A refused protocol request (OIDC authorization or logout, SAML request) needs no sign-in:
# one row each would let anyone fill the table. The target is the request's own client id
# or entity id, so a per-address budget bounds the rows of an address whatever it names.
PACE_SECONDS = 60            # one row per (address, action, target) in this window
ADDRESS_BUDGET = 10          # rows per (address, action) in this window, all targets together
SUPPRESSED_SECONDS = 3600    # how long the count of unwritten refusals waits for a row


def record_paced(action: str, *, target: str | None = None, **details) -> None:
    """`record` for refusals anyone can cause: at most one row per (client address,
    action, target) per minute, and ADDRESS_BUDGET per (address, action). A refusal not
    written is counted (the caller logs every one): the next row written for this address
    and action carries `suppressed`, how many were not written since its previous row
    (within SUPPRESSED_SECONDS). The store down: the row is written, unpaced (pacing never
    turns a refusal into an error page)."""
    ip = client_key() if has_request_context() else ""
    try:
        keys = store()
        count_key = f"audit-suppressed:{action}:{ip}"
        if not (keys.add(f"audit-pace:{action}:{ip}:{target or ''}", 1, PACE_SECONDS)
                and keys.incr(f"audit-budget:{action}:{ip}", PACE_SECONDS) <= ADDRESS_BUDGET):
            keys.incr(count_key, SUPPRESSED_SECONDS)
            return
        suppressed = keys.take(count_key)
    except StoreUnavailable:
        suppressed = None
    if suppressed:
        details["suppressed"] = int(suppressed)
    record(action, target=target, **details)
