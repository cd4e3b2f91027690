"""POST /oidc/token without Flask or Authlib for the token endpoint's bulk traffic.

Two grants make nearly all of it: refresh_token (every RP renews its access token every
ACCESS_TOKEN_SECONDS for every family signed in; refresh_fast_path.py) and
authorization_code (every sign-in at an RP; code_fast_path.py). Through Flask and Authlib
each costs a few milliseconds of CPU; this WSGI layer in front of the app answers the
clean, valid ones itself:

  - POST /oidc/token, form-encoded, one of those grant types, only that grant's own
    parameters, none repeated;
  - the client authenticates with client_secret_basic or client_secret_post, or is a
    public client (client_id alone): private_key_jwt goes to Authlib.

Anything else, and every request a grant cannot settle before it changed something, is
handed untouched to the Authlib endpoint, which answers the protocol's error, does reuse
and replay detection and audits. So these paths answer 200 with the same tokens,
lifetimes and headers as Authlib's (the token tests run through them); the code grant may
also answer an error once it has consumed the code (code_fast_path.py says when).
"""
from __future__ import annotations

import base64
import binascii
import enum
import json
import logging
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import parse_qsl, unquote

from flask import Flask
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg

from ..db import make_engine
from ..security.headers import baseline

log = logging.getLogger(__name__)

PATH = "/oidc/token"
MAX_BODY = 4096
CREDENTIAL_FIELDS = {"client_id", "client_secret"}
_STATUS = {200: "200 OK", 400: "400 Bad Request", 503: "503 Service Unavailable"}


@dataclass(frozen=True)
class Credentials:
    """How the client authenticated: client_secret_basic, client_secret_post or none."""
    client_id: str
    secret: str | None
    method: str


class TokenFastPath:
    """WSGI middleware: answers clean refresh and code grants, passes everything else on."""

    def __init__(self, app: Flask, wsgi_app):
        from .code_fast_path import CodeGrant
        from .refresh_fast_path import RefreshGrant

        self.app, self.next = app, wsgi_app
        self.answered = 0  # how many grants this process answered here (tests, bench)
        self._pg_engine = None
        self.grants = {grant.GRANT_TYPE: grant(self) for grant in (RefreshGrant, CodeGrant)}

    @property
    def postgresql(self) -> bool:
        return self.app.config["DATABASE_URL"].startswith("postgresql")

    def _engine(self):
        """PostgreSQL: a pool of its own that plans each statement on each run (a generic
        plan made while refresh_tokens was small, or had no statistics yet, kept a
        sequential scan as the table grew). Made lazily, in the worker process."""
        if self._pg_engine is None:
            settings = {"plan_cache_mode": "force_custom_plan"}
            if self.app.config["REFRESH_ASYNC_COMMIT"]:
                settings["synchronous_commit"] = "off"
            self._pg_engine = make_engine(self.app.config["DATABASE_URL"], settings)
        return self._pg_engine

    def run_pg(self, sql: str, params: dict, keys: list[str], before_commit) -> dict | None:
        """One statement on a driver connection (SQLAlchemy's execution machinery cost as
        much as the statement itself); `before_commit(row)` runs inside the transaction,
        so whatever it raises undoes the statement."""
        conn = self._engine().raw_connection()
        try:
            row = _fetch_one(conn, sql, params, keys)
            if row is not None:
                before_commit(row)
            conn.commit()
            return row
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()  # back to the pool

    def run_pg_alone(self, sql: str, params: dict, keys: list[str]) -> dict | None:
        """One statement committed on its own (autocommit): one round trip, where a
        transaction takes three (BEGIN, the statement, COMMIT)."""
        conn = self._engine().raw_connection()
        driver = conn.driver_connection
        try:
            driver.autocommit = True
            return _fetch_one(conn, sql, params, keys)
        finally:
            driver.autocommit = False
            conn.close()  # back to the pool

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.next(environ, start_response)
        body = _read(environ)
        parsed = None if body is None else _parse(environ, body, self.grants)
        if parsed is not None:
            grant, credentials, form = parsed
            answer = grant.answer(credentials, form)
            if answer is not None:
                self.answered += 1
                return _respond(start_response, *answer, self.app.config)
        return self.next(environ, start_response)


def _fetch_one(conn, sql: str, params: dict, keys: list[str]) -> dict | None:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        found = cur.fetchone()
    return None if found is None else dict(zip(keys, found))


def driver_sql(statement) -> tuple[str, dict]:
    """PostgreSQL text and fixed parameters of a statement, for psycopg directly."""
    compiled = statement.compile(dialect=postgresql_psycopg.dialect())
    fixed = {k: v.name if isinstance(v, enum.Enum) else v
             for k, v in compiled.params.items() if v is not None}
    return compiled.string, fixed


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


def _parse(environ, body: bytes, grants: dict):
    """(grant, credentials, form) of a clean request, else None."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    grant = grants.get(form.get("grant_type"))
    if grant is None or len(form) != len(pairs) \
            or not set(form) <= {"grant_type", *CREDENTIAL_FIELDS, *grant.FIELDS}:
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
    return grant, Credentials(client_id, secret, method), form


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


def _respond(start_response, status: int, token: dict, config):
    body = json.dumps(token).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
               ("Cache-Control", "no-store"), ("Pragma", "no-cache"),
               ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
               *baseline(config["ISSUER"].startswith("https://"))]
    start_response(_STATUS[status], headers)
    return [body]
