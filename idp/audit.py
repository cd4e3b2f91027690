"""Audit trail: who did what, when, from where. Written in the request's transaction.

Never pass a password, code or token here: details are for identifiers and outcomes.
"""
from __future__ import annotations

from flask import has_request_context, request

from .db import db
from .models import AuditEvent


def record(action: str, *, actor: str | None = None, target: str | None = None,
           **details) -> None:
    ip = request.remote_addr if has_request_context() else None
    db.session.add(AuditEvent(action=action, actor=actor, target=target, ip=ip,
                              details=details))
