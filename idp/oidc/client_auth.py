"""private_key_jwt client authentication (RFC 7523) at the token endpoint: the client
signs an assertion with a key from its registered JWKS (inline, or at its jwks_uri,
fetched and kept ten minutes); each assertion's jti is accepted once."""
from __future__ import annotations

import requests
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import current_app
from joserfc.jwk import KeySet

from ..extensions import store


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
