"""Audit trail: who did what, when, from where. Written in the request's transaction.

Never pass a password, code or token here: details are for identifiers and outcomes.
"""
from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import insert

from .db import db
from .models import AuditEvent

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
