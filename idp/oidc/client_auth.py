"""Client authentication beside Authlib's: private_key_jwt (RFC 7523) at the token
endpoint: the client signs an assertion with a key from its registered JWKS (inline, or at
its jwks_uri, fetched and kept ten minutes); each assertion's jti is accepted once. And
client_secret_basic, parsed without Authlib's 500 on a malformed header."""
from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

import requests
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc6749.authenticate_client import authenticate_client_secret_basic
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import current_app
from joserfc.jwk import KeySet

from ..extensions import store


def client_secret_basic(query_client, request):
    """client_secret_basic (RFC 6749 2.3.1), Authlib's, once the header is known to parse.
    Authlib answers 500 to credentials that are not UTF-8 (`Basic //46/w==`) or to a
    bare `Basic `: a header that says Basic but cannot be read is a failed client
    authentication, 401 invalid_client, whatever other method the request tries."""
    parts = (request.headers.get("Authorization") or "").split(None, 1)
    if not parts or parts[0].lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(parts[-1] if len(parts) > 1 else "",
                                   validate=True).decode("utf-8")
        client_id, secret = decoded.split(":", 1)
        client_id, secret = unquote(client_id, errors="strict"), unquote(secret, errors="strict")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidClientError(status_code=401,
                                 description="The Basic credentials cannot be read.") from None
    if not client_id or not secret:
        return None  # e.g. a public client's "client_id:": its other method decides
    return authenticate_client_secret_basic(query_client, request)


class PrivateKeyJWT(JWTBearerClientAssertion):
    """private_key_jwt client authentication (RFC 7523), keys from the client's JWKS."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self):
        issuer = current_app.config["ISSUER"]
        return [issuer + "/oidc/token", issuer]

    def validate_jti(self, claims, jti):
        return store().add(f"jti:{claims['sub']}:{jti}", 1, 3600)

    def resolve_client_public_key(self, client):
        row = client.row
        if row.jwks:
            return KeySet.import_key_set(row.jwks)
        cached = store().get("jwks:" + row.client_id)
        if cached is None:
            cached = requests.get(row.jwks_uri, timeout=3).json()
            store().set("jwks:" + row.client_id, cached, 600)
        return KeySet.import_key_set(cached)
