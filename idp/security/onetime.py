"""Single-purpose link tokens: activation, email-change confirmation, password reset.

A token is 256 random bits sent in a link; only its SHA-256 is stored (a fast hash is
right for a random secret). It is bound to one account and one purpose, expires, is used
once, and issuing a new one for the same account and purpose revokes the older ones
(SECURITY.md, One-time secrets). Functions flush, never commit.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update

from ..db import db
from ..models import OneTimeToken, utcnow


class LinkProblem(StrEnum):
    """Why a link cannot be used (a token revoked by a newer one counts as used)."""
    unknown = "unknown"
    expired = "expired"
    used = "used"


class LinkTokenError(Exception):
    """A link that cannot be used: `reason` (a LinkProblem); `account_id` is known unless
    the token is unknown."""

    UNKNOWN, EXPIRED, USED = LinkProblem.unknown, LinkProblem.expired, LinkProblem.used

    def __init__(self, reason: LinkProblem | str, account_id: int | None = None):
        super().__init__(reason)
        self.reason = LinkProblem(reason)
        self.account_id = account_id


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link_token(account_id: int, purpose: str, lifetime: timedelta,
                     payload: dict | None = None) -> str:
    """A fresh token for `account_id` and `purpose`; older unused ones are revoked."""
    now = utcnow()
    revoke_link_tokens(account_id, purpose)
    token = secrets.token_urlsafe(32)
    db.session.add(OneTimeToken(token_hash=hash_token(token), account_id=account_id,
                                purpose=purpose, payload=payload or {}, created_at=now,
                                expires_at=now + lifetime))
    db.session.flush()
    return token


def revoke_link_tokens(account_id: int, purpose: str | None = None) -> None:
    """Revoke the account's live tokens (of one purpose, or all)."""
    stmt = update(OneTimeToken).where(OneTimeToken.account_id == account_id,
                                      OneTimeToken.used_at.is_(None),
                                      OneTimeToken.revoked_at.is_(None))
    if purpose is not None:
        stmt = stmt.where(OneTimeToken.purpose == purpose)
    db.session.execute(stmt.values(revoked_at=utcnow()), execution_options={
        "synchronize_session": False})


def consume_link_token(token: str, purpose: str) -> OneTimeToken:
    """Use a token once. Raises LinkTokenError("unknown" | "expired" | "used").

    The conditional UPDATE makes two concurrent clicks safe: exactly one wins."""
    if not token or len(token) > 100:
        raise LinkTokenError(LinkTokenError.UNKNOWN)
    row = db.session.scalar(select(OneTimeToken).where(
        OneTimeToken.token_hash == hash_token(token), OneTimeToken.purpose == purpose))
    if row is None:
        raise LinkTokenError(LinkTokenError.UNKNOWN)
    if row.used_at is not None or row.revoked_at is not None:
        raise LinkTokenError(LinkTokenError.USED, row.account_id)
    now = utcnow()
    if row.expires_at <= now:
        raise LinkTokenError(LinkTokenError.EXPIRED, row.account_id)
    won = db.session.execute(
        update(OneTimeToken).where(OneTimeToken.id == row.id, OneTimeToken.used_at.is_(None),
                                   OneTimeToken.revoked_at.is_(None)).values(used_at=now),
        execution_options={"synchronize_session": False}).rowcount
    if won != 1:
        raise LinkTokenError(LinkTokenError.USED, row.account_id)
    row.used_at = now
    return row
