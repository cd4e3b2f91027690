"""What this provider supports, said once: the discovery document, client registration
(commands and admin console), the grants and the token-side endpoints all read it here."""
from __future__ import annotations

# How a client authenticates at the token endpoint (one per client: clients.py).
SECRET_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
AUTH_METHODS = (*SECRET_AUTH_METHODS, "private_key_jwt", "none")
DEFAULT_AUTH_METHOD = "client_secret_basic"  # of a new confidential client
# Introspection tells about tokens: public clients (method "none") may not call it.
INTROSPECTION_AUTH_METHODS = tuple(m for m in AUTH_METHODS if m != "none")

SCOPES = ("openid", "profile", "email", "education", "offline_access")
DEFAULT_SCOPES = ("openid", "profile", "email", "education")  # of a new client

SIGNING_ALGS = ("RS256", "ES256")  # ID tokens and private_key_jwt assertions

# Authentication context classes (acr), in ID tokens and asked by acr_values or by the
# claims parameter: "pwd" the password alone, "mfa" the password and the second factor
# (RFC 8176's amr names). FranceConnect's "eidas1" joins them with that issue.
ACR_VALUES = ("pwd", "mfa")
