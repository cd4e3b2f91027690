"""The refresh_token grant without Flask or Authlib: one SQL statement, one store write.

Refresh grants are the token endpoint's bulk traffic: every RP renews its access token
every ACCESS_TOKEN_SECONDS for every family signed in. Through Flask and Authlib one
costs ~3 ms of CPU; this WSGI layer in front of the app answers the clean, valid ones
itself (bench/oidc_bench.py, scenario a):

  - POST /oidc/token, form-encoded, grant_type=refresh_token and a refresh_token, no
    scope parameter (narrowing is Authlib's), no repeated or unexpected parameter;
  - the client authenticates with client_secret_basic or client_secret_post, or is a
    public client (client_id alone): private_key_jwt goes to Authlib;
  - one statement checks the client (enabled, that method, the secret's hash), the
    account (still active) and the refresh token (this client's, unused, unrevoked,
    unexpired), marks the token used and inserts its successor (rotation). The access
    token is written to the store before the transaction commits, so a store outage
    consumes nothing.

Everything else, and every failure (unknown client, wrong secret, a used token, i.e. a
reuse, an expired or revoked one, an account no longer active), is handed untouched,
before anything changed, to the Authlib endpoint: it answers the protocol's error and
does the reuse detection (whole grant revoked, audited). So this path only ever answers
200, with the same tokens, lifetimes and headers as Authlib's; the refresh tests run
through it (tests/functional/test_oidc_refresh_fast_path.py).

Comparing the client secret's SHA-256 in SQL is not constant-time, like any index
lookup, but what could leak is how the hash of a guess compares to the stored hash,
which says nothing usable about the secret.

REFRESH_ASYNC_COMMIT (on by default; PostgreSQL): rotations commit without waiting for
the WAL flush (synchronous_commit=off on this path's connections only). With two worker
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

import base64
import binascii
import enum
import json
import logging
from datetime import datetime, timedelta, timezone
from io import BytesIO
from urllib.parse import parse_qsl, unquote

from flask import Flask
from sqlalchemy import bindparam, exists, false, insert, select, update
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg

from ..db import db, make_engine
from ..models import Account, AccountState, OIDCClient, RefreshToken
from ..security.headers import baseline
from . import tokens
from .clients import hash_secret

log = logging.getLogger(__name__)

PATH = "/oidc/token"
MAX_BODY = 4096
FIELDS = {"grant_type", "refresh_token", "client_id", "client_secret"}
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


def _driver_sql(statement) -> tuple[str, dict]:
    """PostgreSQL text and fixed parameters of a statement, for psycopg directly."""
    compiled = statement.compile(dialect=postgresql_psycopg.dialect())
    fixed = {k: v.name if isinstance(v, enum.Enum) else v
             for k, v in compiled.params.items() if v is not None}
    return compiled.string, fixed


# On PostgreSQL: the UPDATE as a CTE feeding the INSERT, one round trip.
_PG_SQL = {public: _driver_sql(_successor(_consume(public).cte("used")))
           for public in (False, True)}


class RefreshFastPath:
    """WSGI middleware: answers clean refresh_token grants, passes everything else on."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.next = app, wsgi_app
        self.answered = 0  # how many grants this process answered here (tests, bench)
        self._pg_engine = None

    def _engine(self):
        """PostgreSQL: a pool of its own that plans the statement on each run (a generic
        plan made while refresh_tokens was small, or had no statistics yet, kept a
        sequential scan as the table grew). Made lazily, in the worker process."""
        if self._pg_engine is None:
            url = self.app.config["DATABASE_URL"]
            settings = {"plan_cache_mode": "force_custom_plan"}
            if self.app.config["REFRESH_ASYNC_COMMIT"]:
                settings["synchronous_commit"] = "off"
            self._pg_engine = make_engine(url, settings)
        return self._pg_engine

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.next(environ, start_response)
        body = self._read(environ)
        if body is not None:
            request = _parse(environ, body)
            if request is not None:
                answer = self._grant(*request)
                if answer is not None:
                    self.answered += 1
                    return _respond(start_response, answer, self.app.config)
        return self.next(environ, start_response)

    @staticmethod
    def _read(environ) -> bytes | None:
        """The body, kept for the app when we pass; None when we should not even look."""
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return None
        if content_type != "application/x-www-form-urlencoded" or not 0 < length <= MAX_BODY:
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = BytesIO(body)
        return body

    def _grant(self, client_id: str, secret: str | None, method: str, refresh_token: str):
        config = self.app.config
        now = datetime.now(timezone.utc)
        access_token, new_refresh = tokens.new_token(), tokens.new_token()
        params = {"presented": tokens.token_hash(refresh_token), "client": client_id,
                  "method": method, "secret": hash_secret(secret) if secret else None,
                  "now": now, "new_hash": tokens.token_hash(new_refresh),
                  "new_expiry": now + timedelta(days=config["REFRESH_TOKEN_DAYS"])}
        rotate = self._rotate_pg if config["DATABASE_URL"].startswith("postgresql") \
            else self._rotate_generic

        def issue(row: dict) -> None:  # inside the transaction: a store outage undoes it
            tokens.save_access_token(
                access_token, client_id=client_id, account_id=row["account_id"],
                scope=row["scope"], grant_id=row["grant_id"],
                expires_in=config["ACCESS_TOKEN_SECONDS"])

        with self.app.app_context():
            try:
                row = rotate(secret is None, params, issue)
            except Exception:  # noqa: BLE001 - rolled back; the app answers (503, 500)
                log.exception("refresh fast path failed; handing the request to the app")
                return None
        if row is None:
            return None  # not ours to judge: Authlib answers, audits
        return {"token_type": "Bearer", "access_token": access_token,
                "expires_in": config["ACCESS_TOKEN_SECONDS"], "refresh_token": new_refresh,
                "scope": row["scope"]}

    def _rotate_pg(self, public: bool, params: dict, issue) -> dict | None:
        """One statement on a driver connection (SQLAlchemy's execution machinery cost
        as much as the statement itself)."""
        sql, defaults = _PG_SQL[public]
        conn = self._engine().raw_connection()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, {**defaults, **params})
                found = cur.fetchone()
            row = None if found is None else dict(zip(_RETURNED_KEYS, found))
            if row is not None:
                issue(row)
            conn.commit()
            return row
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()  # back to the pool

    def _rotate_generic(self, public: bool, params: dict, issue) -> dict | None:
        """SQLite has no data-modifying CTE: the same work in two statements."""
        with db.engine.connect() as conn, conn.begin():
            found = conn.execute(_CONSUME[public], params).first()
            if found is None:
                return None
            row = dict(found._mapping)
            conn.execute(_INSERT, {**params, **{"r_" + k: v for k, v in row.items()}})
            issue(row)
            return row


def _parse(environ, body: bytes):
    """(client_id, secret, method, refresh_token) of a clean request, else None."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    if len(form) != len(pairs) or not set(form) <= FIELDS \
            or form.get("grant_type") != "refresh_token":
        return None
    refresh_token = form.get("refresh_token", "")
    if not 0 < len(refresh_token) <= 200:
        return None
    header = environ.get("HTTP_AUTHORIZATION")
    if header is not None:
        if "client_id" in form or "client_secret" in form:
            return None
        client_id, secret = _basic(header)
        method = "client_secret_basic"
    elif "client_secret" in form:
        client_id, secret, method = form.get("client_id"), form["client_secret"], \
            "client_secret_post"
    else:
        client_id, secret, method = form.get("client_id"), None, "none"
    if not client_id or len(client_id) > 64 or (method != "none" and not secret):
        return None
    return client_id, secret, method, refresh_token


def _basic(header: str) -> tuple[str | None, str | None]:
    """RFC 6749 2.3.1: Basic base64(urlencoded id ":" urlencoded secret)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else (None, None)


def _respond(start_response, token: dict, config):
    body = json.dumps(token).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
               ("Cache-Control", "no-store"), ("Pragma", "no-cache"),
               ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
               *baseline(config["ISSUER"].startswith("https://"))]
    start_response("200 OK", headers)
    return [body]
