"""The discovery document (OpenID Connect Discovery 1.0), served at the issuer's root."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .supported import (ACR_VALUES, AUTH_METHODS, INTROSPECTION_AUTH_METHODS, SCOPES,
                        SIGNING_ALGS)

well_known = Blueprint("well_known", __name__)


@well_known.get("/.well-known/openid-configuration")
def openid_configuration():
    issuer = current_app.config["ISSUER"]
    base = issuer + "/oidc"
    return jsonify({
        "issuer": issuer,
        "authorization_endpoint": base + "/authorize",
        "token_endpoint": base + "/token",
        "userinfo_endpoint": base + "/userinfo",
        "jwks_uri": base + "/jwks",
        "end_session_endpoint": base + "/logout",
        "revocation_endpoint": base + "/revoke",
        "introspection_endpoint": base + "/introspect",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": list(SIGNING_ALGS),
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(SIGNING_ALGS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(INTROSPECTION_AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "acr", "name",
            "given_name", "family_name", "preferred_username", "locale", "email",
            "email_verified", "profile", "affiliation", "academy", "school_uai",
            "school_name", "class", "pupils"],
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["fr", "en"],
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": True,
        "acr_values_supported": list(ACR_VALUES),
    })
