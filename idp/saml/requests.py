"""Incoming SAML requests (AuthnRequest, LogoutRequest): decoded with bounded memory,
checked against the SP's registration and SECURITY.md's SAML rules, before anything else.

Order matters: size, then inflate with a cap, then a DOCTYPE-refusing parse (no entity
expansion, no network), then the SP (known, enabled), then pysaml2's schema and
signature checks with the SP's own `want_authn_requests_signed`, then Destination,
IssueInstant window, replay (store `add` with a TTL) and the ACS from the metadata.
Any failure is a `SamlRequestError`: our error page, never a response posted anywhere.
"""
from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import time
import zlib
from dataclasses import dataclass

from flask import current_app, g
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, request as saml_request
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.time_util import str_to_time
from saml2.xmldsig import SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512
from sqlalchemy import select
from sqlalchemy.orm import defer

from ..db import db
from ..extensions import store
from ..models import SAMLServiceProvider
from .xml_safety import UnsafeXMLError, parse_xml
from .server import SLO_PATHS, SSO_PATHS, SamlIdp

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
REDIRECT_SIG_ALGS = frozenset({SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512})
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
RELAY_STATE_MAX = 512  # the bindings say 80 bytes; some SPs send more, none send kilobytes


class SamlRequestError(ValueError):
    """A request we will not act on. `reason` (English, short, may quote pysaml2) is for
    the operators: the log and the audit trail, never the page."""

    def __init__(self, reason: str, sp: SAMLServiceProvider | None = None):
        super().__init__(reason)
        self.reason = reason
        self.sp = sp


@dataclass
class Incoming:
    """A decoded message: its XML, the parsed root and the raw transport values."""
    xml: str
    root: object
    raw: str
    binding: str
    relay_state: str | None
    sigalg: str | None
    signature: str | None

    @property
    def issuer(self) -> str | None:
        node = self.root.find(f"{{{SAML_NS}}}Issuer")
        return (node.text or "").strip() if node is not None else None


def decode(raw: str | None, binding: str, relay_state: str | None = None,
           sigalg: str | None = None, signature: str | None = None) -> Incoming:
    """Base64 (+ inflate for Redirect) and parse, refusing oversized or unsafe XML."""
    limit = int(current_app.config["SAML_MAX_MESSAGE_BYTES"])
    if not raw:
        raise SamlRequestError("no SAML message")
    if len(raw) > limit * 2:  # base64 of at most `limit` bytes (deflated or not)
        raise SamlRequestError("message too large")
    if relay_state is not None and len(relay_state.encode()) > RELAY_STATE_MAX:
        raise SamlRequestError("RelayState too long")
    try:
        data = base64.b64decode(raw, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise SamlRequestError("message is not base64") from exc
    if binding == BINDING_HTTP_REDIRECT:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(data, limit + 1)  # never more than limit + 1 bytes
        except zlib.error as exc:
            raise SamlRequestError("message is not DEFLATE-encoded") from exc
        if inflater.unconsumed_tail:
            raise SamlRequestError("message too large once inflated")
    if len(data) > limit:
        raise SamlRequestError("message too large")
    try:
        root = parse_xml(data)
    except UnsafeXMLError as exc:
        raise SamlRequestError(f"unsafe or malformed XML: {exc}") from exc
    return Incoming(data.decode("utf-8", "replace"), root, raw, binding, relay_state, sigalg,
                    signature)


def find_sp(entity: str | None) -> SAMLServiceProvider:
    """The enabled SP registered under this entity id (a disabled one stops at once).

    Read once per request (memoised in `g`: the checks, the plan and the response all
    ask), without its metadata, which only the Server build reads."""
    if not entity or len(entity) > 500:
        raise SamlRequestError("request without a known Issuer")
    memo = g.setdefault("saml_sps", {})
    if entity not in memo:
        memo[entity] = db.session.scalar(select(SAMLServiceProvider).where(
            SAMLServiceProvider.entity_id == entity).options(
                defer(SAMLServiceProvider.metadata_xml)))
    row = memo[entity]
    if row is None or not row.enabled:
        raise SamlRequestError(f"unknown or disabled service provider {entity!r}")
    return row


def _load(idp: SamlIdp, incoming: Incoming, sp: SAMLServiceProvider, cls, paths: dict,
          must_sign: bool):
    """pysaml2's schema + signature checks, with our per-SP signing rule."""
    server = idp.server_for(sp)
    if not idp.has_metadata(sp.entity_id):
        raise SamlRequestError("the service provider's metadata is not usable "
                               "(expired or malformed): update it", sp)
    if incoming.signature is not None and incoming.sigalg not in REDIRECT_SIG_ALGS:
        raise SamlRequestError("signature algorithm refused (RSA-SHA256 or stronger)", sp)
    signed_redirect = incoming.binding == BINDING_HTTP_REDIRECT and incoming.signature is not None
    receivers = [idp.issuer + paths[incoming.binding]]
    message = cls(server.sec, receivers, server.config.attribute_converters,
                  timeslack=int(current_app.config["SAML_CLOCK_SKEW_SECONDS"]))
    try:
        message.loads(incoming.xml, incoming.binding, origdoc=incoming.raw,
                      must=must_sign or signed_redirect, relay_state=incoming.relay_state,
                      sigalg=incoming.sigalg, signature=incoming.signature)
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds for bad input
        raise SamlRequestError(f"request refused: {type(exc).__name__}: {exc}", sp) from exc
    req = message.message
    signed = signed_redirect or getattr(req, "signature", None) is not None
    _check_common(req, sp, receivers[0], signed)
    return server, req, signed


def _check_common(req, sp: SAMLServiceProvider, receiver: str, signed: bool) -> None:
    """Version, Destination, IssueInstant window, replay."""
    if req.version != "2.0":
        raise SamlRequestError("SAML version must be 2.0", sp)
    if req.destination != receiver and (req.destination or signed):
        # Present: must be us. Absent: allowed only on unsigned messages (SAML bindings
        # 3.4.5.2 / 3.5.5.2 make it mandatory once signed).
        raise SamlRequestError(f"Destination {req.destination!r} is not {receiver}", sp)
    skew = int(current_app.config["SAML_CLOCK_SKEW_SECONDS"])
    max_age = int(current_app.config["SAML_REQUEST_MAX_AGE_SECONDS"])
    try:
        issued = calendar.timegm(str_to_time(req.issue_instant))
    except (TypeError, ValueError) as exc:
        raise SamlRequestError("IssueInstant is not a date", sp) from exc
    now = time.time()
    if not now - max_age - skew <= issued <= now + skew:
        raise SamlRequestError("IssueInstant outside the accepted window", sp)
    if not req.id or len(req.id) > 256:
        raise SamlRequestError("request without a usable ID", sp)
    key = "saml:seen:" + hashlib.sha256(f"{sp.entity_id}|{req.id}".encode()).hexdigest()
    if not store().add(key, 1, max_age + 2 * skew):
        raise SamlRequestError("request ID already used (replay)", sp)


@dataclass
class AuthnRequestInfo:
    """What the fulfil step needs to answer an AuthnRequest (plain data, JSON-safe)."""
    sp: str
    request_id: str
    acs_url: str
    relay_state: str | None
    force_authn: bool
    is_passive: bool
    name_id_format: str | None


def _pick_acs(server, sp: SAMLServiceProvider, req) -> str:
    """The ACS the response goes to: one listed in the SP's metadata, HTTP-POST only."""
    url, index = req.assertion_consumer_service_url, req.assertion_consumer_service_index
    if req.protocol_binding and req.protocol_binding != BINDING_HTTP_POST:
        raise SamlRequestError(f"ProtocolBinding {req.protocol_binding} not supported", sp)
    services = server.metadata.assertion_consumer_service(sp.entity_id, BINDING_HTTP_POST) or []
    for acs in services:
        if url and acs.get("location") != url:
            continue
        if index is not None and str(acs.get("index")) != str(index):
            continue
        if url or index is not None:
            return acs["location"]
    if url or index is not None:
        raise SamlRequestError("AssertionConsumerService not in the SP's metadata", sp)
    default = [a for a in services if str(a.get("is_default", "")).lower() == "true"]
    ordered = default or sorted(services, key=lambda a: int(a.get("index") or 0))
    if not ordered:
        raise SamlRequestError("the SP's metadata has no HTTP-POST AssertionConsumerService", sp)
    return ordered[0]["location"]


def parse_authn_request(idp: SamlIdp, incoming: Incoming) -> AuthnRequestInfo:
    """Every check of an AuthnRequest; returns what to keep in the pending request."""
    if incoming.root.tag != "{urn:oasis:names:tc:SAML:2.0:protocol}AuthnRequest":
        raise SamlRequestError("not an AuthnRequest")
    sp = find_sp(incoming.issuer)
    server, req, _ = _load(idp, incoming, sp, saml_request.AuthnRequest, SSO_PATHS,
                           sp.want_authn_requests_signed)
    acs_url = _pick_acs(server, sp, req)
    policy = req.name_id_policy
    fmt = policy.format if policy is not None else None
    return AuthnRequestInfo(
        sp=sp.entity_id, request_id=req.id, acs_url=acs_url,
        relay_state=incoming.relay_state, force_authn=str(req.force_authn).lower() == "true",
        is_passive=str(req.is_passive).lower() == "true",
        name_id_format=None if fmt in (None, NAMEID_UNSPECIFIED) else fmt)


def parse_logout_request(idp: SamlIdp, incoming: Incoming):
    """A LogoutRequest from a registered SP: (sp row, server, message, signed)."""
    if incoming.root.tag != "{urn:oasis:names:tc:SAML:2.0:protocol}LogoutRequest":
        raise SamlRequestError("not a LogoutRequest")
    sp = find_sp(incoming.issuer)
    server, req, signed = _load(idp, incoming, sp, saml_request.LogoutRequest, SLO_PATHS,
                                sp.want_authn_requests_signed)
    if req.not_on_or_after:
        try:
            if calendar.timegm(str_to_time(req.not_on_or_after)) < time.time() - \
                    int(current_app.config["SAML_CLOCK_SKEW_SECONDS"]):
                raise SamlRequestError("LogoutRequest expired", sp)
        except (TypeError, ValueError) as exc:
            raise SamlRequestError("NotOnOrAfter is not a date", sp) from exc
    return sp, server, req, signed


SUPPORTED_NAMEID_FORMATS = (NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT)
