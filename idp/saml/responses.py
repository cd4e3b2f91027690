"""SAML responses: the signed (and encrypted) SSO Response, error statuses, NameIDs, and
the auto-posting page that carries them to the SP's verified ACS.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlsplit

from flask import current_app, render_template, session
from saml2 import samlp
from saml2.assertion import authn_statement
from saml2.saml import (AUTHN_PASSWORD_PROTECTED, NAMEID_FORMAT_PERSISTENT,
                        NAMEID_FORMAT_TRANSIENT, NameID)

from ..families import linked_pupils
from ..security.headers import CSP
from .requests import SUPPORTED_NAMEID_FORMATS
from .server import ALGORITHMS, SamlIdp

SESSION_KEY = "saml"  # [{sp, name_id, format, session_index}] for single logout
SIGN_ALG = {"sign_alg": ALGORITHMS["signing_algorithm"],
            "digest_alg": ALGORITHMS["digest_algorithm"]}


def persistent_id(sp_entity_id: str, account) -> str:
    """Opaque, stable per (SP, person), unlinkable across SPs (like OIDC pairwise `sub`)."""
    salt = current_app.config["PAIRWISE_SALT"]
    digest = hashlib.sha256(f"saml|{sp_entity_id}|{account.public_id}|{salt}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def choose_name_id_format(server, sp, requested: str | None) -> str | None:
    """The format asked by the request, else the SP metadata's first one we support,
    else persistent. None when the SP asks for a format we do not issue."""
    if requested:
        return requested if requested in SUPPORTED_NAMEID_FORMATS else None
    try:
        listed = [f for f in server.metadata.name_id_format(sp.entity_id, "spsso")
                  if f in SUPPORTED_NAMEID_FORMATS]
    except Exception:  # noqa: BLE001 - absent in the metadata
        listed = []
    return listed[0] if listed else NAMEID_FORMAT_PERSISTENT


def name_id_for(idp: SamlIdp, sp, account, fmt: str) -> NameID:
    value = persistent_id(sp.entity_id, account) if fmt == NAMEID_FORMAT_PERSISTENT \
        else "_" + secrets.token_urlsafe(24)
    return NameID(format=fmt, text=value, name_qualifier=idp.entity_id,
                  sp_name_qualifier=sp.entity_id)


def success_response(idp: SamlIdp, sp, info: dict, account, auth_time: float) -> tuple[str, dict]:
    """The signed/encrypted Response for `account` and the entry SLO needs later.

    Raises `NameIdPolicyError` when the SP asked for a NameID format we do not issue."""
    server = idp.server_for(sp)
    fmt = choose_name_id_format(server, sp, info.get("name_id_format"))
    if fmt is None:
        raise NameIdPolicyError(info.get("name_id_format"))
    name_id = name_id_for(idp, sp, account, fmt)
    identity = idp.schema.values(account, sp.attributes, {
        "logout_url": idp.issuer + "/", "pupils": lambda: linked_pupils(account)})
    statement = authn_statement(authn_class=AUTHN_PASSWORD_PROTECTED,
                                authn_instant=int(auth_time or 0) or "")
    statement.session_index = _session_index(sp.entity_id, name_id.text, fmt)
    response = server._authn_response(  # the public wrapper cannot take an AuthnStatement
        info["request_id"], info["acs_url"], sp.entity_id, identity=identity,
        name_id=name_id, authn_statement=statement, policy=idp.policy, best_effort=True,
        sign_response=sp.sign_mode in ("response", "both"),
        sign_assertion=sp.sign_mode in ("assertion", "both"),
        encrypt_assertion=bool(sp.encrypt), **SIGN_ALG,
        # Self-contained: the decrypted assertion declares its own namespaces (pysaml2 SPs
        # need it). Known limit: python3-saml then rejects the signature of the *inner*
        # assertion (it re-parses it in the Response's context); register such SPs with
        # --sign response, whose signature covers the encrypted assertion.
        encrypt_assertion_self_contained=True)
    entry = {"sp": sp.entity_id, "name_id": name_id.text, "format": fmt,
             "session_index": statement.session_index}
    return str(response), entry


def _session_index(sp_entity_id: str, name_id: str, fmt: str) -> str:
    """The SessionIndex: one per (IdP session, SP), as SAML means it. A later SSO to
    the same SP in the same session, with the same NameID, reuses it, so the session
    entry does not change and is not rewritten in the store on every response."""
    for entry in session.get(SESSION_KEY, []):
        if entry["sp"] == sp_entity_id and entry["name_id"] == name_id \
                and entry["format"] == fmt:
            return entry["session_index"]
    return "_" + secrets.token_urlsafe(18)


class NameIdPolicyError(ValueError):
    """The SP asked for a NameID format we do not issue (answered InvalidNameIDPolicy)."""


def error_response(idp: SamlIdp, sp, info: dict, status: str, message: str) -> str:
    """A signed Response carrying an error status (NoPassive, RequestDenied...)."""
    server = idp.server_for(sp)
    return str(server.create_error_response(info["request_id"], info["acs_url"],
                                            info=(status, message), sign=True, **SIGN_ALG))


def remember_for_logout(entry: dict) -> None:
    """Keep (SP, NameID, SessionIndex) in the SSO session, latest per SP (the session
    is left untouched, hence not rewritten, when that entry is already there)."""
    entries = session.get(SESSION_KEY, [])
    if entry in entries:
        return
    session[SESSION_KEY] = [e for e in entries if e["sp"] != entry["sp"]] + [entry]


def post_page(action: str, field: str, xml: str, relay_state: str | None, sp_name: str,
              status: int = 200):
    """The page that POSTs a SAML message to a verified endpoint of the SP (auto-submitted
    by static/js/saml-post.js; a button for browsers without script)."""
    encoded = base64.b64encode(xml.encode()).decode()
    response = current_app.make_response((render_template(
        "saml/post.html", action=action, field=field, value=encoded,
        relay_state=relay_state, sp_name=sp_name), status))
    parts = urlsplit(action)
    # form-action limited to this one verified endpoint's origin (not any https: site).
    response.headers["Content-Security-Policy"] = CSP.format(
        extra=f"{parts.scheme}://{parts.netloc}").strip()
    return response


STATUS = {"no_passive": samlp.STATUS_NO_PASSIVE, "denied": samlp.STATUS_REQUEST_DENIED,
          "name_id_policy": samlp.STATUS_INVALID_NAMEID_POLICY}
__all__ = ["NAMEID_FORMAT_TRANSIENT", "STATUS", "success_response", "error_response",
           "post_page", "remember_for_logout", "persistent_id", "NameIdPolicyError"]
