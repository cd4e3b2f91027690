"""Access tokens (opaque, in the store with their TTL), refresh tokens (hashed, in the
database) and grants: every token descends from one authorization code, and the grant id
ties them together so a replayed code or a reused refresh token revokes them all.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, exists, false, func, insert, select, update
from sqlalchemy.orm import load_only

from ..audit import record
from ..db import db
from ..extensions import store
from ..models import Account, AccountState, RefreshToken
from ..models.base import utcnow


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
                      grant_id: str, expires_in: int) -> None:
    now = int(time.time())
    store().set("at:" + token_hash(value), {
        "client_id": client_id, "account_id": account_id, "scope": scope,
        "grant_id": grant_id, "expires_at": now + expires_in, "issued_at": now}, expires_in)


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


# Columns of a refresh token: its own (hash, issue and expiry times) and those its grant
# gives it, bound for a code's first token or carried over from the token it rotates.
_OWN = (RefreshToken.token_hash, RefreshToken.issued_at, RefreshToken.expires_at)
_CARRIED = (RefreshToken.grant_id, RefreshToken.client_id, RefreshToken.account_id,
            RefreshToken.scope, RefreshToken.sid, RefreshToken.auth_time)


def _bound(column, prefix: str = ""):
    """A bound value for `column`. The successor's own values are named new_*: values
    named like a column would be added to an UPDATE's SET clause."""
    return bindparam(prefix + column.key, type_=column.type)


def _insert(carried, no_flush_wait: bool):
    """INSERT ... SELECT of one refresh token.

    `no_flush_wait` (PostgreSQL, REFRESH_ASYNC_COMMIT, on by default): the token
    endpoint's transaction commits without waiting for the WAL flush (set_config, as SET
    LOCAL, inside the statement itself: no round trip of its own). With two worker
    processes the disk's flush latency, not the CPU, bounded the grants per second. What
    it can cost, on a *database server crash* only (not a clean restart), is the tokens
    of the last fraction of a second (at most 3 x wal_writer_delay): an RP then holds a
    refresh token the database does not know, gets invalid_grant and sends the family
    through the authorization again, which single sign-on answers without a password."""
    columns = [c.key for c in (*_OWN, *_CARRIED)] + ["used", "revoked"]
    values = select(*(_bound(c, "new_") for c in _OWN), *carried, false(), false())
    if no_flush_wait:
        values = values.where(func.set_config("synchronous_commit", "off", True) == "off")
    return insert(RefreshToken).from_select(columns, values)


def _mark_used():
    """Mark the presented token used, if `client` may rotate it now: its own, unused,
    not revoked, not expired, its account active. RETURNING what its successor carries."""
    active = exists().where(Account.id == RefreshToken.account_id,
                            Account.state == AccountState.active)
    return (update(RefreshToken)
            .where(RefreshToken.token_hash == bindparam("presented"),
                   RefreshToken.client_id == bindparam("client"),
                   RefreshToken.used.is_(False), RefreshToken.revoked.is_(False),
                   RefreshToken.expires_at > bindparam("now"), active)
            .values(used=True).returning(*_CARRIED))


def _statements(no_flush_wait: bool) -> dict:
    """Built once per setting: SQLAlchemy compiles each once per dialect and caches it."""
    used = _mark_used().cte("used")
    successor = (_insert([used.c[c.key] for c in _CARRIED], no_flush_wait)
                 .returning(*_CARRIED).cte("successor"))
    return {"issue": _insert([_bound(c) for c in _CARRIED], no_flush_wait),
            # PostgreSQL: the take in one statement. The UPDATE (a CTE) feeds the INSERT
            # of the successor (a CTE), whose row comes back with its account.
            "take": (select(Account, *(successor.c[c.key] for c in _CARRIED))
                     .join(successor, successor.c.account_id == Account.id)
                     .options(load_only(Account.state))),
            # Elsewhere (SQLite has no data-modifying CTE): the UPDATE, then the INSERT.
            "mark_used": _mark_used(),
            "successor": _insert([_bound(c) for c in _CARRIED], False)}


_STATEMENTS = {setting: _statements(setting) for setting in (False, True)}


def _statement(name: str):
    postgresql = db.engine.dialect.name == "postgresql"
    return _STATEMENTS[postgresql and current_app.config["REFRESH_ASYNC_COMMIT"]][name]


def _own_values(value: str, days: int) -> dict:
    now = utcnow()
    return {"new_token_hash": token_hash(value), "new_issued_at": now,
            "new_expires_at": now + timedelta(days=days)}


def save_refresh_token(value: str, *, client_id: str, account_id: int, scope: str,
                       grant_id: str, days: int, sid: str | None, auth_time: int) -> None:
    """The first refresh token of a grant (a code's redemption): one INSERT."""
    db.session.connection().execute(_statement("issue"), {
        **_own_values(value, days), "grant_id": grant_id, "client_id": client_id,
        "account_id": account_id, "scope": scope, "sid": sid, "auth_time": auth_time})


@dataclass(frozen=True)
class TakenRefreshToken:
    """A presented refresh token, taken: marked used, its successor inserted in its grant."""
    grant_id: str
    client_id: str
    account_id: int
    scope: str
    sid: str | None
    auth_time: int | None
    successor: str
    account: Account


def take_refresh_token(value: str, client_id: str, successor: str,
                       days: int) -> TakenRefreshToken | None:
    """Take the refresh token `client_id` presents, as a code is taken: mark it used and
    insert `successor` in its grant, by one statement on PostgreSQL (read, check and
    rotation together). Of concurrent takes of one token exactly one wins (the UPDATE's
    WHERE used = false decides). It is the request's transaction: an answer refused
    later (a scope beyond the grant's, a store outage) rolls it back.

    None when it may not be rotated; a token already used is a reuse, and the whole
    grant is revoked (RFC 9700 4.14)."""
    if not value or len(value) > 200:
        return None
    params = {**_own_values(successor, days), "presented": token_hash(value),
              "client": client_id, "now": utcnow()}
    if db.engine.dialect.name == "postgresql":
        found = db.session.execute(_statement("take"), params).first()
        if found is not None:
            account, *carried = found
            return TakenRefreshToken(*carried, successor=successor, account=account)
    else:
        row = db.session.connection().execute(_statement("mark_used"), params).first()
        if row is not None:
            db.session.connection().execute(_statement("successor"),
                                            {**params, **row._mapping})
            return TakenRefreshToken(**row._mapping, successor=successor,
                                     account=db.session.get(Account, row.account_id))
    presented = find_refresh_token(value)  # why not: a reuse revokes the grant
    if presented is not None and presented.used and presented.client_id == client_id:
        reused(presented)
    return None


def reused(row: RefreshToken) -> None:
    """A used refresh token presented again (or rotated by a concurrent request)."""
    revoke_grant(row.grant_id)
    record("refresh_token_reuse_revoked_grant", target=row.client_id,
           account_id=row.account_id, grant=row.grant_id)


def is_past(moment: datetime) -> bool:
    return moment < utcnow()  # UTCDateTime columns come back aware


def find_refresh_token(value: str) -> RefreshToken | None:
    if not value or len(value) > 200:
        return None
    return db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash(value)))


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
