"""The authorization_code grant without Flask or Authlib: one store script, one SQL
statement, one store write, the ID token.

Answered by the token endpoint's fast path (token_fast_path.py says which requests reach
it) when the request carries the code, and only the redirect_uri and code_verifier:

  1. the client is authenticated from the process's client cache (client_cache.py): an
     enabled client, its registered method, the secret's hash (constant-time), and a
     public client must send a code_verifier;
  2. one store script takes the code only if it was issued to this client, for this
     redirect_uri (the same value, or both absent) and, when a code_verifier is sent,
     for the S256 challenge of that verifier (when none is sent, for no challenge), and
     marks it used for replay detection (grants.take_code). A code that does not match,
     or is unknown, expired or already used, is left as it was and the request goes to
     Authlib, which answers invalid_grant or invalid_request and revokes what a replayed
     code issued;
  3. the access token is written to the store; one statement, committed on its own (one
     round trip on PostgreSQL, where a transaction takes three), inserts the refresh
     token if the account is still active and returns the account's public id, for the
     `sub` of the ID token (grants.id_token, as Authlib's path signs it). When the account
     is not active any more, or the statement fails, the access token is deleted again.

Once the code is taken the request is ours to answer: invalid_grant when the account is
no longer active (Authlib's answer too), 503 when the database or the store failed (the
code is spent: the RP sends the family through the authorization again, which single
sign-on answers without a password).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from authlib.oauth2.rfc7636.challenge import CODE_VERIFIER_PATTERN, create_s256_code_challenge
from sqlalchemy import bindparam, false, insert, select

from ..db import db
from ..models import Account, AccountState, RefreshToken
from . import tokens
from .clients import query_client
from .grants import AuthorizationCode, id_token, take_code
from .token_fast_path import driver_sql

log = logging.getLogger(__name__)

_COLUMNS = ["token_hash", "grant_id", "client_id", "account_id", "scope", "sid",
            "auth_time", "issued_at", "expires_at", "used", "revoked"]


def _bound(name: str, column):
    return bindparam(name, type_=column.type)


# INSERT ... SELECT FROM accounts: nothing when the account is not active any more; the
# inserted row brings back the account's public id (`sub`).
_ISSUE = (insert(RefreshToken).from_select(_COLUMNS, select(
    _bound("token_hash", RefreshToken.token_hash), _bound("grant_id", RefreshToken.grant_id),
    _bound("client_id", RefreshToken.client_id), Account.id, _bound("scope", RefreshToken.scope),
    _bound("sid", RefreshToken.sid), _bound("auth_time", RefreshToken.auth_time),
    _bound("now", RefreshToken.issued_at), _bound("expires_at", RefreshToken.expires_at),
    false(), false())
    .where(Account.id == bindparam("account_id"), Account.state == AccountState.active))
    .returning(select(Account.public_id).where(Account.id == bindparam("account_id"))
               .scalar_subquery().label("public_id")))
_PG_SQL = driver_sql(_ISSUE)
_KEYS = ["public_id"]


def _authenticated(client, credentials, verifier: str | None) -> bool:
    if client is None or not client.check_endpoint_auth_method(credentials.method, "token"):
        return False
    if credentials.method == "none":
        return client.is_public and verifier is not None  # PKCE is required for them
    return client.check_client_secret(credentials.secret)


class CodeGrant:
    """grant_type=authorization_code for TokenFastPath."""

    GRANT_TYPE = "authorization_code"
    FIELDS = {"code", "redirect_uri", "code_verifier"}

    def __init__(self, path):
        self.path, self.app = path, path.app

    def answer(self, credentials, form: dict) -> tuple[int, dict] | None:
        code, verifier = form.get("code", ""), form.get("code_verifier")
        if not 0 < len(code) <= 200 \
                or (verifier is not None and not CODE_VERIFIER_PATTERN.match(verifier)):
            return None
        with self.app.app_context():
            try:
                client = query_client(credentials.client_id)
                if not _authenticated(client, credentials, verifier):
                    return None
                data = take_code(code, {
                    "client_id": credentials.client_id,
                    "redirect_uri": form.get("redirect_uri"),
                    "code_challenge": create_s256_code_challenge(verifier) if verifier else None,
                    "code_challenge_method": "S256" if verifier else None})
            except Exception:  # noqa: BLE001 - nothing was taken; the app answers (503)
                log.exception("code fast path failed; handing the request to the app")
                return None
            if data is None:
                return None  # not ours to judge: Authlib answers, detects replays
            try:
                return self._issue(client, AuthorizationCode(**data))
            except Exception:  # noqa: BLE001 - rolled back; the code is spent
                log.exception("code fast path failed after taking the code")
                return 503, {"error": "temporarily_unavailable",
                             "error_description": "Try the authorization again."}

    def _issue(self, client, code: AuthorizationCode) -> tuple[int, dict]:
        config = self.app.config
        now = datetime.now(timezone.utc)
        access_token, refresh_token = tokens.new_token(), tokens.new_token()
        token = {"token_type": "Bearer", "access_token": access_token,
                 "expires_in": config["ACCESS_TOKEN_SECONDS"],
                 "refresh_token": refresh_token, "scope": code.scope}
        params = {"token_hash": tokens.token_hash(refresh_token), "grant_id": code.grant_id,
                  "client_id": code.client_id, "account_id": code.account_id,
                  "scope": code.scope, "sid": code.sid, "auth_time": code.auth_time,
                  "now": now,
                  "expires_at": now + timedelta(days=config["REFRESH_TOKEN_DAYS"])}

        # The access token first: when the statement finds the account inactive, or
        # fails, it is deleted again; the statement is then the only write to commit.
        tokens.save_access_token(
            access_token, client_id=code.client_id, account_id=code.account_id,
            scope=code.scope, grant_id=code.grant_id,
            expires_in=config["ACCESS_TOKEN_SECONDS"])
        row = None
        try:
            if self.path.postgresql:
                sql, defaults = _PG_SQL
                row = self.path.run_pg_alone(sql, {**defaults, **params}, _KEYS)
            else:
                with db.engine.begin() as conn:
                    found = conn.execute(_ISSUE, params).first()
                row = None if found is None else dict(found._mapping)
        finally:
            if row is None:  # the account is not active any more, or the statement failed
                tokens.revoke_access_token(access_token)
        if row is None:
            return 400, {"error": "invalid_grant",
                         "error_description": "There is no 'user' for this code."}
        if "openid" in code.scope.split():
            account = SimpleNamespace(public_id=row["public_id"])
            token["id_token"] = id_token(client, account, code, access_token)
        return 200, token
