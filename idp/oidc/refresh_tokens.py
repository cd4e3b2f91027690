"""Refresh tokens, hashed in the database: a code's first one inserted, a presented one
*taken* (checked, marked used and its successor inserted by one statement), given back
when the answer cannot be sent, a used one presented again revoking its whole grant.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, exists, false, func, insert, select, update

from ..audit import record
from ..db import db
from ..models import Account, AccountState, RefreshToken
from ..models.base import utcnow
from .tokens import revoke_grant, token_hash

# Columns of a refresh token: its own (hash, issue and expiry times) and those its grant
# gives it, bound for a code's first token or carried over from the token it rotates.
_OWN = (RefreshToken.token_hash, RefreshToken.issued_at, RefreshToken.expires_at)
_CARRIED = (RefreshToken.grant_id, RefreshToken.client_id, RefreshToken.account_id,
            RefreshToken.scope, RefreshToken.sid, RefreshToken.auth_time,
            RefreshToken.claims)


def _bound(column, prefix: str = ""):
    """A bound value for `column`. The successor's own values are named new_*: values
    named like a column would be added to an UPDATE's SET clause."""
    return bindparam(prefix + column.key, type_=column.type)


def _insert(carried, no_flush_wait: bool, condition=None):
    """INSERT ... SELECT of one refresh token (only when `condition` holds, if given).

    `no_flush_wait` (PostgreSQL, REFRESH_ASYNC_COMMIT, on by default): the statement's
    transaction commits without waiting for the WAL flush (set_config, as SET LOCAL,
    inside the statement itself: no round trip of its own). With two worker processes
    the disk's flush latency, not the CPU, bounded the grants per second. What it can
    cost, on a *database server crash* only (not a clean restart), is the tokens of the
    last fraction of a second (at most 3 x wal_writer_delay): an RP then holds a refresh
    token the database does not know, gets invalid_grant and sends the family through
    the authorization again, which single sign-on answers without a password."""
    columns = [c.key for c in (*_OWN, *_CARRIED)] + ["used", "revoked"]
    values = select(*(_bound(c, "new_") for c in _OWN), *carried, false(), false())
    if condition is not None:
        values = values.where(condition)
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
    successor = delete(RefreshToken).where(RefreshToken.token_hash == bindparam("successor"))
    unused = (update(RefreshToken).where(RefreshToken.token_hash == bindparam("presented"))
              .values(used=False))
    active = exists().where(Account.id == bindparam("account_id"),
                            Account.state == AccountState.active)
    return {"issue": _insert([_bound(c) for c in _CARRIED], no_flush_wait, active)
            .returning(RefreshToken.grant_id),
            # PostgreSQL: the take in one statement, the UPDATE (a CTE) feeding the
            # INSERT of the successor, RETURNING what the grant carries.
            "take": _insert([used.c[c.key] for c in _CARRIED], no_flush_wait)
            .returning(*_CARRIED),
            # Elsewhere (SQLite has no data-modifying CTE): the UPDATE, then the INSERT.
            "mark_used": _mark_used(),
            "successor": _insert([_bound(c) for c in _CARRIED], False),
            # Giving a take back: its successor deleted, the presented token unused.
            "give_back": [successor, unused]}


_STATEMENTS = {setting: _statements(setting) for setting in (False, True)}


def _statement(name: str):
    postgresql = db.engine.dialect.name == "postgresql"
    return _STATEMENTS[postgresql and current_app.config["REFRESH_ASYNC_COMMIT"]][name]


def _own_values(value: str, days: int) -> dict:
    now = utcnow()
    return {"new_token_hash": token_hash(value), "new_issued_at": now,
            "new_expires_at": now + timedelta(days=days)}


def save_refresh_token(value: str, *, client_id: str, account_id: int, scope: str,
                       grant_id: str, days: int, sid: str | None, auth_time: int,
                       claims: str | None = None) -> bool:
    """The first refresh token of a grant (a code's redemption): one INSERT, committed at
    once (discard() removes it if the answer cannot be sent). False, and nothing
    inserted, when the account is not active any more."""
    return db.alone(_statement("issue"), {
        **_own_values(value, days), "grant_id": grant_id, "client_id": client_id,
        "account_id": account_id, "scope": scope, "sid": sid, "auth_time": auth_time,
        "claims": claims}) is not None


def discard(value: str) -> None:
    """A refresh token issued in an answer that could not be sent."""
    with db.engine.begin() as conn:
        conn.execute(_statement("give_back")[0], {"successor": token_hash(value)})


@dataclass(frozen=True)
class TakenRefreshToken:
    """A presented refresh token, taken: marked used, its successor inserted in its grant."""
    grant_id: str
    client_id: str
    account_id: int
    scope: str
    sid: str | None
    auth_time: int | None
    claims: str | None
    presented: str
    successor: str


def take_refresh_token(value: str, client_id: str, successor: str,
                       days: int) -> TakenRefreshToken | None:
    """Take the refresh token `client_id` presents, as a code is taken: check it (its
    client, unused, not revoked, not expired, its account active), mark it used and
    insert `successor` in its grant, committed at once (one statement on PostgreSQL). Of
    concurrent takes of one token exactly one wins (the UPDATE's WHERE used = false
    decides). An answer refused afterwards gives it back (give_back).

    None when it may not be rotated; a token already used is a reuse, and the whole
    grant is revoked (RFC 9700 4.14), in the request's transaction."""
    if not value or len(value) > 200:
        return None
    params = {**_own_values(successor, days), "presented": token_hash(value),
              "client": client_id, "now": utcnow()}
    if db.engine.dialect.name == "postgresql":
        row = db.alone(_statement("take"), params)  # committed at once
    else:
        with db.engine.begin() as conn:  # a transaction of its own around the two
            row = conn.execute(_statement("mark_used"), params).first()
            if row is not None:
                conn.execute(_statement("successor"), {**params, **row._mapping})
    if row is not None:
        return TakenRefreshToken(**row._mapping, presented=value, successor=successor)
    presented = find_refresh_token(value)  # why not: a reuse revokes the grant
    if presented is not None and presented.used and presented.client_id == client_id:
        reused(presented)
    return None


def give_back(taken: TakenRefreshToken) -> None:
    """Undo a take whose answer could not be sent (a scope beyond the grant's, a store
    outage): the successor nobody received is deleted and the presented token is usable
    again. When the database fails too, the RP's next use of it is a reuse, and the
    family signs in again through single sign-on."""
    with db.engine.begin() as conn:
        remove, restore = _statement("give_back")
        conn.execute(remove, {"successor": token_hash(taken.successor)})
        conn.execute(restore, {"presented": token_hash(taken.presented)})


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
    return db.session.scalar(select(RefreshToken)
                             .where(RefreshToken.token_hash == token_hash(value)))
