"""Relying parties as Authlib sees them, and their registration.

`Client` adapts the `OIDCClient` row to Authlib's ClientMixin. The rules that Authlib
leaves loose are made strict here: exact redirect URI match, no default redirect URI when
several are registered, one authentication method per client.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from flask import g
from sqlalchemy import select

from ..db import db
from ..models import OIDCClient
from . import client_cache
from .supported import (AUTH_METHODS, DEFAULT_AUTH_METHOD, DEFAULT_SCOPES, SCOPES,
                        SECRET_AUTH_METHODS, SIGNING_ALGS)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Client(ClientMixin):
    def __init__(self, row: OIDCClient):
        self.row = row
        self.client_id = row.client_id
        self.client_metadata = {
            "id_token_signed_response_alg": row.id_token_signed_response_alg}

    @property
    def id_token_signed_response_alg(self) -> str:
        return self.row.id_token_signed_response_alg

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        # Authlib fills in a missing redirect_uri with this: only when it is unambiguous.
        uris = self.row.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        allowed = set(self.row.scopes)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.row.redirect_uris  # exact match, no prefix, no pattern

    def check_client_secret(self, client_secret):
        if not self.row.secret_hash or not client_secret:
            return False
        return hmac.compare_digest(self.row.secret_hash, hash_secret(client_secret))

    def check_endpoint_auth_method(self, method, endpoint):
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")

    @property
    def is_public(self) -> bool:
        return self.row.public


def query_client(client_id: str | None) -> Client | None:
    """An enabled client, or None (a disabled one stops working at once)."""
    if not client_id or not isinstance(client_id, str) or len(client_id) > 64:
        return None
    # Authlib looks the client up several times per request: once per request is
    # enough; between requests, the process cache holds while no client changed.
    memo = g.setdefault("oidc_clients", {})
    if client_id not in memo:
        memo[client_id] = client_cache.cached(client_id, _load_client)
    return memo[client_id]


def _load_client(client_id: str) -> Client | None:
    row = db.session.scalar(select(OIDCClient).where(OIDCClient.client_id == client_id))
    if row is None or not row.enabled:
        return None
    db.session.expunge(row)  # read only, shared by the process's later requests
    return Client(row)


def new_client_id() -> str:
    """128 random bits, URL-safe, never starting with "-" (an operator types it after
    `idp clients edit-oidc`, where a leading dash would read as an option)."""
    while (client_id := secrets.token_urlsafe(16)).startswith("-"):
        pass
    return client_id


class RegistrationError(ValueError):
    """A client registration that cannot be accepted; the message says why."""


def check_redirect_uri(uri: str) -> str:
    """Absolute https URL (http only for localhost), no fragment."""
    parts = urlsplit(uri)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise RegistrationError(f"not an absolute URL: {uri}")
    if parts.scheme == "http" and not local:
        raise RegistrationError(f"http is allowed only for localhost: {uri}")
    if parts.fragment:
        raise RegistrationError(f"a redirect URI cannot have a fragment: {uri}")
    return uri


@dataclass
class Registered:
    row: OIDCClient
    client_secret: str | None


def register_client(*, name: str, redirect_uris: list[str], public: bool = False,
                    post_logout_redirect_uris: list[str] | None = None,
                    backchannel_logout_uri: str | None = None,
                    scopes: list[str] | None = None, token_auth_method: str | None = None,
                    jwks_uri: str | None = None, jwks: dict | None = None,
                    pairwise: bool = False, id_token_alg: str = "RS256",
                    client_id: str | None = None, client_secret: str | None = None) -> Registered:
    """Validate and add a client; returns the row and, once, the plain secret."""
    if not name.strip():
        raise RegistrationError("a client needs a name")
    if db.session.scalar(select(OIDCClient).where(OIDCClient.name == name)):
        raise RegistrationError(f"a client named {name!r} already exists")
    if not redirect_uris:
        raise RegistrationError("at least one redirect URI is required")
    uris = [check_redirect_uri(u) for u in redirect_uris]
    logout_uris = [check_redirect_uri(u) for u in post_logout_redirect_uris or []]
    if backchannel_logout_uri:
        check_redirect_uri(backchannel_logout_uri)
    method = token_auth_method or ("none" if public else DEFAULT_AUTH_METHOD)
    if method not in AUTH_METHODS:
        raise RegistrationError(f"unknown token endpoint auth method {method}")
    if public != (method == "none"):
        raise RegistrationError("public clients, and only they, use the method 'none'")
    if method == "private_key_jwt" and not (jwks_uri or jwks):
        raise RegistrationError("private_key_jwt needs --jwks-uri")
    scopes = scopes or list(DEFAULT_SCOPES)
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise RegistrationError(f"unknown scopes: {', '.join(sorted(unknown))}")
    if id_token_alg not in SIGNING_ALGS:
        raise RegistrationError("id token algorithm must be RS256 or ES256")
    secret = None
    if method in SECRET_AUTH_METHODS:
        secret = client_secret or secrets.token_urlsafe(32)  # 256 bits
    row = OIDCClient(
        client_id=client_id or new_client_id(), name=name, public=public,
        secret_hash=hash_secret(secret) if secret else None, redirect_uris=uris,
        post_logout_redirect_uris=logout_uris, backchannel_logout_uri=backchannel_logout_uri,
        scopes=scopes, token_endpoint_auth_method=method, jwks_uri=jwks_uri, jwks=jwks,
        pairwise=pairwise, id_token_signed_response_alg=id_token_alg)
    db.session.add(row)
    db.session.flush()
    return Registered(row, secret)
