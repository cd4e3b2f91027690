"""Authlib grants made strict: codes in the store (single use, 60 s, atomic take),
PKCE S256 only, rotating refresh tokens with reuse detection, private_key_jwt."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import grants as oidc_grants
from authlib.oidc.core.util import create_half_hash
from flask import current_app, session
from joserfc import jwt
from sqlalchemy import bindparam, select

from ..audit import record
from ..db import db
from ..extensions import keyring, store
from ..models import Account, AccountState
from ..signin.session import current_acr
from . import claims_request, refresh_tokens, tokens
from .claims import subject, user_info
from .supported import AUTH_METHODS


@dataclass
class AuthorizationCode:
    """What the store keeps for a code (Authlib's AuthorizationCodeMixin)."""
    client_id: str
    redirect_uri: str | None
    scope: str
    account_id: int
    grant_id: str
    auth_time: int
    sid: str | None = None
    amr: list = field(default_factory=list)
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    acr: str | None = None                        # "pwd" or "mfa" (supported.ACR_VALUES)
    claims: dict = field(default_factory=dict)    # claims_request.parse() of the request
    public_id: str | None = None                  # the account's, for the ID token's sub

    @classmethod
    def from_stored(cls, data: dict) -> "AuthorizationCode":
        """The stored entry, its unknown keys left out: a code a newer release stored
        (one more field) is still redeemed by this one during a rolling reload."""
        return cls(**{k: v for k, v in data.items() if k in _CODE_FIELDS})

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return self.acr

    def get_amr(self):
        return self.amr or None


_CODE_FIELDS = frozenset(AuthorizationCode.__dataclass_fields__)


def _code_key(code: str) -> str:
    return "code:" + tokens.token_hash(code)


def _nonce_key(client_id: str, nonce: str) -> str:
    return f"nonce:{client_id}:{nonce}"


def used_code_key(code: str) -> str:
    """Kept for an hour after a redemption: the grant a replay of the code revokes."""
    return "used-" + _code_key(code)


def take_code(code: str, client_id: str) -> dict | None:
    """Take a code issued to `client_id` from the store and mark it used, in one atomic
    step (a store script): of concurrent takes exactly one gets it. None, and the code
    left alone, when it is unknown, expired, used or another client's."""
    return store().take_matching(_code_key(code), {"client_id": client_id},
                                 used_code_key(code), "grant_id", 3600)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def generate_authorization_code(self):
        return tokens.new_token()  # 256 bits (Authlib's draws 48 characters one by one)

    def save_authorization_code(self, code, request):
        data = request.payload.data
        entry = AuthorizationCode(
            client_id=request.client.get_client_id(),
            # Only the redirect_uri the client sent: if it sent one, the token request must
            # repeat it exactly (RFC 6749 4.1.3).
            redirect_uri=data.get("redirect_uri"),
            scope=request.scope, account_id=request.user.id,
            public_id=request.user.public_id,
            grant_id=secrets.token_hex(16), auth_time=int(session.get("auth_time", time.time())),
            sid=session.get("sid"), amr=session.get("amr", []), nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            acr=current_acr(), claims=claims_request.parse(  # checked at begin
                data.get("claims"), request.client.row.scopes))
        entries = {_code_key(code): (entry.__dict__,
                                     current_app.config["AUTHORIZATION_CODE_SECONDS"])}
        if entry.nonce:  # a nonce is used once per client (replay of an ID token)
            entries[_nonce_key(entry.client_id, entry.nonce)] = (1, 3600)
        store().set_many(entries)

    def query_authorization_code(self, code, client):
        """Take the code atomically: of concurrent redemptions exactly one gets it. A code
        seen again is a replay: every token the first redemption issued is revoked."""
        if not isinstance(code, str) or len(code) > 200:
            return None
        data = take_code(code, client.get_client_id())
        if data is None:
            used = store().get(used_code_key(code))
            if used:
                tokens.revoke_grant(used)
                record("authorization_code_replay_revoked_grant", target=client.get_client_id(),
                       grant=used)
            return None
        return AuthorizationCode.from_stored(data)

    def delete_authorization_code(self, authorization_code):
        pass  # already taken from the store by query_authorization_code

    def authenticate_user(self, authorization_code):
        if authorization_code.public_id is None:  # a code stored before it carried one
            return active_owner(authorization_code.account_id)
        # The code carries what the ID token needs; whether the account is still active
        # is asked where the tokens are kept (server.save_token), by the refresh token's
        # INSERT itself: one statement and one round trip fewer per code.
        return GrantOwner(authorization_code.account_id, authorization_code.public_id,
                          checked=False)


@dataclass(frozen=True)
class GrantOwner:
    """The resource owner as the token endpoint knows it: its account's id (the tokens
    record it) and, for a code's ID token, its public id (`sub`, claims.subject). Nothing
    there reads more of the account, so none of it is loaded (userinfo reads it)."""
    id: int
    public_id: str | None = None
    checked: bool = True  # False: its account's state is checked when the tokens are kept


_OWNER = (select(Account.id, Account.public_id)
          .where(Account.id == bindparam("id"), Account.state == AccountState.active))


def active_owner(account_id: int) -> GrantOwner | None:
    row = db.alone(_OWNER, {"id": account_id})  # outside the request's transaction
    return GrantOwner(*row) if row is not None else None


class StrictCodeChallenge(CodeChallenge):
    """PKCE with S256 only: `plain` and a missing method are refused; required for public
    clients (Authlib accepts plain and defaults a missing method to it)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if grant.request.client.is_public and not challenge:
            raise InvalidRequestError("PKCE is required: send code_challenge with S256.")
        if challenge and method != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code):
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code):
        return authorization_code.code_challenge_method


class OpenIDCode(oidc_grants.OpenIDCode):
    def exists_nonce(self, nonce, request):
        return bool(store().get(_nonce_key(request.payload.client_id, nonce)))

    def encode_id_token(self, token, request):
        return id_token(request.client, request.user, request.authorization_code,
                        token.get("access_token"))


def id_token(client, account, code: AuthorizationCode, access_token: str | None) -> str:
    """The ID token for a redeemed code, signed with the key of the client's algorithm.

    Only `sub` of the account by default: RPs send the ID token back in URLs
    (id_token_hint at logout), so a minor's name, class or linked pupils ride in it only
    when the RP asked for them there (the `claims` parameter, within its registered
    scopes). The claims of the granted scopes are served by the userinfo endpoint. `acr`
    says how the family authenticated (supported.ACR_VALUES)."""
    alg = client.id_token_signed_response_alg
    kid, key = keyring().signing_key(alg)
    now = int(time.time())
    claims = {"iss": current_app.config["ISSUER"], "aud": [client.get_client_id()],
              "iat": now, "exp": now + current_app.config["ID_TOKEN_SECONDS"]}
    if code.nonce:
        claims["nonce"] = code.nonce
    if code.auth_time:
        claims["auth_time"] = code.auth_time
    if code.amr:
        claims["amr"] = code.amr
    if code.sid:
        claims["sid"] = code.sid
    if code.acr:
        claims["acr"] = code.acr
    if access_token:
        claims["at_hash"] = create_half_hash(access_token, alg).decode()
    claims["sub"] = subject(account, client)
    asked = code.claims.get("id_token")  # by the `claims` parameter: read the account
    if asked:
        full = db.session.get(Account, account.id)
        claims.update(claims_request.pick(user_info(full, client, " ".join(
            claims_request.implied_scopes({"id_token": asked}))), asked))
    return jwt.encode({"alg": alg, "kid": kid, "typ": "JWT"}, claims, key, [alg])


class RefreshTokenRecord:
    """A stored refresh token as Authlib's revocation and introspection endpoints read it."""

    def __init__(self, row):
        self.row = row

    def get_scope(self):
        return self.row.scope

    def check_client(self, client):
        return client.get_client_id() == self.row.client_id

    def is_expired(self):
        return refresh_tokens.is_past(self.row.expires_at)

    def is_revoked(self):
        return self.row.used or self.row.revoked


class TakenRecord:
    """A taken refresh token (refresh_tokens.TakenRefreshToken) as Authlib's refresh
    grant reads it."""

    def __init__(self, taken: refresh_tokens.TakenRefreshToken):
        self.taken = taken

    def get_scope(self):
        return self.taken.scope

    def check_client(self, client):
        return client.get_client_id() == self.taken.client_id


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Rotation: the presented token is taken when it is authenticated, as a code is
    (refresh_tokens.take_refresh_token: checked, marked used and its successor inserted,
    one statement committed at once); a used token presented again revokes its whole
    grant. The successor's value is drawn before the take and the response carries it;
    an answer refused afterwards gives the take back."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = False  # the successor is drawn before the take

    def authenticate_refresh_token(self, refresh_token):
        if not isinstance(refresh_token, str):
            return None
        taken = refresh_tokens.take_refresh_token(
            refresh_token, self.request.client.get_client_id(), tokens.new_token(),
            current_app.config["REFRESH_TOKEN_DAYS"])
        if taken is None:
            return None
        requested = self.request.payload.scope
        if requested and not set(scope_to_list(requested)) <= set(scope_to_list(taken.scope)):
            refresh_tokens.give_back(taken)  # refused: the presented token stays usable
            raise InvalidScopeError()
        return TakenRecord(taken)

    def authenticate_user(self, refresh_token):
        return GrantOwner(refresh_token.taken.account_id)  # active: the take checked it

    def issue_token(self, user, refresh_token):
        token = super().issue_token(user, refresh_token)
        token["refresh_token"] = refresh_token.taken.successor
        return token

    def revoke_old_credential(self, refresh_token):
        pass  # marked used by the take
