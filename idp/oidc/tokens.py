"""Access tokens (opaque, in the store with their TTL) and grants: every token descends
from one authorization code, and the grant id ties them together so a replayed code or a
reused refresh token revokes them all. Refresh tokens: refresh_tokens.py.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select, update

from ..db import db
from ..extensions import store
from ..models import Account, RefreshToken


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_token(*_args, **_kwargs) -> str:
    """256 random bits, URL-safe: access and refresh tokens (Authlib's generator builds
    its 42 characters one `random.choice` at a time, ~0.1 ms each)."""
    return secrets.token_urlsafe(32)


@dataclass
class AccessToken:
    """What the store keeps about an access token (Authlib's TokenMixin)."""
    client_id: str
    account_id: int
    scope: str
    grant_id: str
    expires_at: int
    issued_at: int
    claims: str | None = None  # userinfo claims asked by the `claims` parameter

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_at - self.issued_at

    def is_expired(self):
        return time.time() >= self.expires_at

    def is_revoked(self):
        return grant_is_revoked(self.grant_id)

    def get_user(self):
        return db.session.get(Account, self.account_id)

    def get_client(self):
        from .clients import query_client

        return query_client(self.client_id)

    def check_client(self, client):
        return client.get_client_id() == self.client_id


def save_access_token(value: str, *, client_id: str, account_id: int, scope: str,
                      grant_id: str, expires_in: int, claims: str | None = None) -> None:
    now = int(time.time())
    entry = {"client_id": client_id, "account_id": account_id, "scope": scope,
             "grant_id": grant_id, "expires_at": now + expires_in, "issued_at": now}
    if claims:
        entry["claims"] = claims
    store().set("at:" + token_hash(value), entry, expires_in)


def find_access_token(value: str | None) -> AccessToken | None:
    if not value or len(value) > 200:
        return None
    data = store().get("at:" + token_hash(value))
    if data is None:
        return None
    token = AccessToken(**data)
    return None if token.is_revoked() or token.is_expired() else token


def revoke_access_token(value: str) -> None:
    store().delete("at:" + token_hash(value))


def revoke_grant(grant_id: str, ttl: int = 86400) -> None:
    """Revoke every token of a grant: refresh tokens in the database, access tokens by a
    mark in the store that outlives them."""
    db.session.execute(update(RefreshToken).where(RefreshToken.grant_id == grant_id)
                       .values(revoked=True))
    store().set("revoked-grant:" + grant_id, 1, ttl)


def grant_is_revoked(grant_id: str) -> bool:
    return bool(store().get("revoked-grant:" + grant_id))


def revoke_account_tokens(account_id: int) -> None:
    """After a password reset: every refresh token of the account stops working."""
    grant_ids = db.session.scalars(select(RefreshToken.grant_id).distinct()
                                   .where(RefreshToken.account_id == account_id)).all()
    for grant_id in grant_ids:
        revoke_grant(grant_id)
