"""OpenID Connect clients as operators manage them: register (through
idp.oidc.clients.register_client), edit, enable or disable, rotate the secret.

Every change is validated in full before the row is touched, so a refused edit leaves
the client as it was; every change is audited, never with the secret. A new or rotated
secret is returned once to the caller and only its hash is kept.
"""
from __future__ import annotations

from sqlalchemy import select

from ..audit import record
from ..db import db
from ..models import OIDCClient
from ..oidc.clients import (CLIENT_FIELDS, Registered, RegistrationError, checked_client,
                            hash_secret, new_client_secret, register_client)
from ..oidc.supported import SECRET_AUTH_METHODS

EDITABLE = ("name", "redirect_uris", "post_logout_redirect_uris", "backchannel_logout_uri",
            "scopes", "token_endpoint_auth_method", "jwks_uri", "pairwise",
            "id_token_signed_response_alg", "trusted_for_school")


def require_client(client_id: str) -> OIDCClient:
    row = db.session.scalar(select(OIDCClient).where(OIDCClient.client_id == client_id))
    if row is None:
        raise RegistrationError(f"no OIDC client {client_id!r}")
    return row


def register(*, trusted: bool = False, actor: str | None = None, **options) -> Registered:
    """Register a client (options as register_client) and set its consent mode."""
    reg = register_client(**options)
    reg.row.trusted_for_school = bool(trusted)
    db.session.flush()
    record("oidc_client_registered", actor=actor, target=reg.row.client_id,
           name=reg.row.name, method=reg.row.token_endpoint_auth_method,
           scopes=reg.row.scopes, pairwise=reg.row.pairwise, trusted=bool(trusted))
    return reg


def edited_values(row: OIDCClient, changes: dict) -> dict:
    """The client's settings after `changes` (None: unchanged), as validate_client reads
    them. `public` follows the method unless given: "none" makes a client public."""
    values = {k: getattr(row, k) for k in CLIENT_FIELDS} | {
        k: v for k, v in changes.items() if v is not None and k in CLIENT_FIELDS}
    if changes.get("public") is None:
        values["public"] = values["token_endpoint_auth_method"] == "none"
    return values


def update_client(client_id: str, *, actor: str | None = None,
                  **changes) -> tuple[OIDCClient, str | None]:
    """Edit a client; None means "unchanged". The same rules as a registration
    (validate_client), checked before the row is touched. Becoming confidential gives a
    new secret (returned once); becoming public drops the secret. `public` may be given
    (it must then agree with the method); else it follows the method.
    Returns (row, new secret or None)."""
    unknown = set(changes) - set(EDITABLE) - {"public"}
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    row = require_client(client_id)
    values = checked_client(edited_values(row, changes), row.id)
    before = {k: getattr(row, k) for k in EDITABLE}
    method = values["token_endpoint_auth_method"]
    new_secret = None
    if method in SECRET_AUTH_METHODS and not row.secret_hash:
        new_secret = new_client_secret()
        row.secret_hash = hash_secret(new_secret)
    elif method not in SECRET_AUTH_METHODS:
        row.secret_hash = None
    for key in CLIENT_FIELDS:
        setattr(row, key, values[key])
    if changes.get("trusted_for_school") is not None:
        row.trusted_for_school = bool(changes["trusted_for_school"])
    values["trusted_for_school"] = row.trusted_for_school
    db.session.flush()
    changed = sorted(k for k in EDITABLE if before[k] != values[k])
    record("oidc_client_updated", actor=actor, target=row.client_id, changed=changed,
           secret_issued=new_secret is not None)
    return row, new_secret


def set_enabled(client_id: str, enabled: bool, actor: str | None = None) -> OIDCClient:
    """A disabled client is refused from its next request on (no token, no refresh)."""
    row = require_client(client_id)
    row.enabled = enabled
    db.session.flush()
    record("oidc_client_enabled" if enabled else "oidc_client_disabled", actor=actor,
           target=row.client_id)
    return row


def rotate_secret(client_id: str, actor: str | None = None) -> tuple[OIDCClient, str]:
    """A new secret replaces the old one at once (returned once, stored hashed)."""
    row = require_client(client_id)
    if row.token_endpoint_auth_method not in SECRET_AUTH_METHODS:
        raise RegistrationError("this client authenticates without a secret")
    secret = new_client_secret()
    row.secret_hash = hash_secret(secret)
    db.session.flush()
    record("oidc_client_secret_rotated", actor=actor, target=row.client_id)
    return row, secret


def describe(row: OIDCClient) -> dict:
    return {"client_id": row.client_id, "name": row.name, "enabled": row.enabled,
            "public": row.public, "token_endpoint_auth_method": row.token_endpoint_auth_method,
            "redirect_uris": row.redirect_uris, "scopes": row.scopes,
            "post_logout_redirect_uris": row.post_logout_redirect_uris,
            "backchannel_logout_uri": row.backchannel_logout_uri, "pairwise": row.pairwise,
            "trusted_for_school": row.trusted_for_school, "jwks_uri": row.jwks_uri,
            "id_token_alg": row.id_token_signed_response_alg,
            "created_at": row.created_at.isoformat() if row.created_at else None}


def list_clients() -> list[OIDCClient]:
    return list(db.session.scalars(select(OIDCClient).order_by(OIDCClient.name)))
