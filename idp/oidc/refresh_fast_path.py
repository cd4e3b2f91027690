"""The refresh_token grant without Flask or Authlib: one SQL statement, one store write.

Answered by the token endpoint's fast path (token_fast_path.py says which requests reach
it) when the refresh_token parameter is all the grant carries (no scope: narrowing is
Authlib's). One statement checks the client (enabled, that method, the secret's hash),
the account (still active) and the refresh token (this client's, unused, unrevoked,
unexpired), marks the token used and inserts its successor (rotation). The access token
is written to the store before the transaction commits, so a store outage consumes
nothing.

Every failure (unknown client, wrong secret, a used token, i.e. a reuse, an expired or
revoked one, an account no longer active) is handed untouched, before anything changed,
to the Authlib endpoint: it answers the protocol's error and does the reuse detection
(whole grant revoked, audited). So this path only ever answers 200; the refresh tests run
through it (tests/functional/test_oidc_refresh_fast_path.py).

Comparing the client secret's SHA-256 in SQL is not constant-time, like any index
lookup, but what could leak is how the hash of a guess compares to the stored hash,
which says nothing usable about the secret.

REFRESH_ASYNC_COMMIT (on by default; PostgreSQL): rotations, and the refresh tokens the
code grant's fast path issues, commit without waiting for the WAL flush
(synchronous_commit=off on the fast paths' connections only). With two worker
processes the flush latency of the disk, not the CPU, bounded the grants per second, and
made them vary from run to run. What it can cost, on a *database server crash* only (not
an IdP or a clean PostgreSQL restart), is the rotations of the last fraction of a second
(at most 3 x wal_writer_delay): an RP then holds a refresh token the database does not
know, gets invalid_grant, and sends the family back through the authorization, which
single sign-on usually answers without a password. The token the database still holds
as unused was that RP's own. Access tokens already live in the store, which may keep
nothing on disk. Set it to false to wait for the flush on every grant.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, exists, false, insert, select, update

from ..db import db
from ..models import Account, AccountState, OIDCClient, RefreshToken
from . import tokens
from .clients import hash_secret
from .token_fast_path import driver_sql

log = logging.getLogger(__name__)

RETURNED = (RefreshToken.grant_id, RefreshToken.account_id, RefreshToken.scope,
            RefreshToken.sid, RefreshToken.auth_time)


def _consume(public: bool):
    """UPDATE ... SET used RETURNING: the token, if everything about it is in order."""
    if public:
        client_ok = (OIDCClient.public.is_(True),
                     OIDCClient.token_endpoint_auth_method == "none")
    else:
        client_ok = (OIDCClient.token_endpoint_auth_method == bindparam("method"),
                     OIDCClient.secret_hash == bindparam("secret"))
    return (update(RefreshToken)
            .where(RefreshToken.token_hash == bindparam("presented"),
                   RefreshToken.client_id == bindparam("client"),
                   RefreshToken.used.is_(False), RefreshToken.revoked.is_(False),
                   RefreshToken.expires_at > bindparam("now", type_=RefreshToken.expires_at.type),
                   exists().where(OIDCClient.client_id == bindparam("client"),
                                  OIDCClient.enabled.is_(True), *client_ok),
                   exists().where(Account.id == RefreshToken.account_id,
                                  Account.state == AccountState.active))
            .values(used=True).returning(*RETURNED))


def _successor(source):
    """INSERT the rotated token, its fields taken from `source` (CTE or bound values)."""
    columns = ["token_hash", "client_id", "issued_at", "expires_at", "used", "revoked",
               "grant_id", "account_id", "scope", "sid", "auth_time"]
    fixed = (bindparam("new_hash", type_=RefreshToken.token_hash.type),
             bindparam("client", type_=RefreshToken.client_id.type),
             bindparam("now", type_=RefreshToken.issued_at.type),
             bindparam("new_expiry", type_=RefreshToken.expires_at.type), false(), false())
    if source is None:  # two statements: the values come from the UPDATE's row
        return insert(RefreshToken).from_select(columns, select(*fixed, *(
            bindparam("r_" + c.key, type_=c.type) for c in RETURNED)))
    return insert(RefreshToken).from_select(columns, select(*fixed, *(
        source.c[c.key] for c in RETURNED))).returning(*RETURNED)


# Built once: SQLAlchemy compiles each statement once per dialect and caches it.
_CONSUME = {public: _consume(public) for public in (False, True)}
_INSERT = _successor(None)
_RETURNED_KEYS = [c.key for c in RETURNED]


# On PostgreSQL: the UPDATE as a CTE feeding the INSERT, one round trip.
_PG_SQL = {public: driver_sql(_successor(_consume(public).cte("used")))
           for public in (False, True)}


class RefreshGrant:
    """grant_type=refresh_token for TokenFastPath."""

    GRANT_TYPE = "refresh_token"
    FIELDS = {"refresh_token"}

    def __init__(self, path):
        self.path, self.app = path, path.app

    def answer(self, credentials, form: dict) -> tuple[int, dict] | None:
        refresh_token = form.get("refresh_token", "")
        if not 0 < len(refresh_token) <= 200:
            return None
        config = self.app.config
        client_id, secret = credentials.client_id, credentials.secret
        now = datetime.now(timezone.utc)
        access_token, new_refresh = tokens.new_token(), tokens.new_token()
        params = {"presented": tokens.token_hash(refresh_token), "client": client_id,
                  "method": credentials.method,
                  "secret": hash_secret(secret) if secret else None,
                  "now": now, "new_hash": tokens.token_hash(new_refresh),
                  "new_expiry": now + timedelta(days=config["REFRESH_TOKEN_DAYS"])}

        def issue(row: dict) -> None:  # inside the transaction: a store outage undoes it
            tokens.save_access_token(
                access_token, client_id=client_id, account_id=row["account_id"],
                scope=row["scope"], grant_id=row["grant_id"],
                expires_in=config["ACCESS_TOKEN_SECONDS"])

        public = secret is None
        with self.app.app_context():
            try:
                if self.path.postgresql:
                    sql, defaults = _PG_SQL[public]
                    row = self.path.run_pg(sql, {**defaults, **params}, _RETURNED_KEYS, issue)
                else:
                    row = self._rotate_generic(public, params, issue)
            except Exception:  # noqa: BLE001 - rolled back; the app answers (503, 500)
                log.exception("refresh fast path failed; handing the request to the app")
                return None
        if row is None:
            return None  # not ours to judge: Authlib answers, audits
        return 200, {"token_type": "Bearer", "access_token": access_token,
                     "expires_in": config["ACCESS_TOKEN_SECONDS"],
                     "refresh_token": new_refresh, "scope": row["scope"]}

    @staticmethod
    def _rotate_generic(public: bool, params: dict, issue) -> dict | None:
        """SQLite has no data-modifying CTE: the same work in two statements."""
        with db.engine.connect() as conn, conn.begin():
            found = conn.execute(_CONSUME[public], params).first()
            if found is None:
                return None
            row = dict(found._mapping)
            conn.execute(_INSERT, {**params, **{"r_" + k: v for k, v in row.items()}})
            issue(row)
            return row
