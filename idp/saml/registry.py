"""Registering SAML service providers from their metadata (a file or an https URL).

The metadata is read with bounded size, parsed without DTDs, checked with pysaml2 (schema,
validUntil), its signature verified when a federation certificate is configured, and
stored: every later request uses the stored copy (no fetch at sign-in time).
"""
from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from flask import current_app
from saml2 import BINDING_HTTP_POST
from saml2.mdstore import InMemoryMetaData
from saml2.time_util import str_to_time
from sqlalchemy import select

from ..audit import record
from ..db import db
from ..models import SAMLServiceProvider
from ..models.base import utcnow
from .attributes import AttributeConfigError
from .crypto_backend import XmlsecBackend
from .xml_safety import UnsafeXMLError, parse_xml

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
MAX_METADATA_BYTES = 1 << 20
SIGN_MODES = ("response", "assertion", "both")


class RegistrationError(ValueError):
    """Metadata or options we refuse (the message is one line, for the CLI)."""


@dataclass
class ParsedMetadata:
    xml: str
    entity_id: str
    name: str | None
    want_authn_requests_signed: bool
    has_encryption_key: bool


def read_metadata(source: str) -> str:
    """The metadata text from a file path or an http(s) URL, at most 1 MiB."""
    if source.startswith(("https://", "http://")):
        try:
            with requests.get(source, timeout=10, stream=True) as response:
                response.raise_for_status()
                data = response.raw.read(MAX_METADATA_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise RegistrationError(f"cannot fetch {source}: {exc}") from exc
    else:
        path = Path(source)
        if not path.is_file():
            raise RegistrationError(f"no metadata file {source}")
        with path.open("rb") as fh:
            data = fh.read(MAX_METADATA_BYTES + 1)
    if len(data) > MAX_METADATA_BYTES:
        raise RegistrationError("metadata larger than 1 MiB")
    return data.decode("utf-8", "replace")


def parse_metadata(xml: str, cert_file: str | None = None) -> ParsedMetadata:
    """Check the metadata of one SP (signature when `cert_file`, schema, expiry)."""
    try:
        root = parse_xml(xml)
    except UnsafeXMLError as exc:
        raise RegistrationError(f"metadata refused: {exc}") from exc
    if root.tag != f"{{{MD_NS}}}EntityDescriptor":
        raise RegistrationError("metadata must be one md:EntityDescriptor")
    if cert_file:
        try:
            good = XmlsecBackend().validate_signature(
                xml, cert_file, "pem", f"{MD_NS}:EntityDescriptor", root.get("ID"))
        except Exception as exc:  # noqa: BLE001 - SignatureError and friends
            raise RegistrationError(f"metadata signature refused: {exc}") from exc
        if not good:
            raise RegistrationError("metadata signature does not verify with the certificate")
    valid_until = root.get("validUntil")
    if valid_until and calendar.timegm(str_to_time(valid_until)) < time.time():
        raise RegistrationError(f"metadata expired (validUntil {valid_until})")
    entity_id = root.get("entityID") or ""
    md = InMemoryMetaData([], xml, check_validity=False)
    try:
        md.load()
    except Exception as exc:  # noqa: BLE001 - pysaml2 schema errors
        raise RegistrationError(f"metadata not valid SAML 2.0: {exc}") from exc
    descriptors = (md.entity.get(entity_id) or {}).get("spsso_descriptor") or []
    if not descriptors:
        raise RegistrationError("metadata has no SPSSODescriptor")
    spsso = descriptors[0]
    acs = [a for a in spsso.get("assertion_consumer_service", [])
           if a.get("binding") == BINDING_HTTP_POST]
    if not acs:
        raise RegistrationError("metadata has no HTTP-POST AssertionConsumerService")
    enc_keys = [k for k in spsso.get("key_descriptor", []) if k.get("use") in (None, "encryption")]
    return ParsedMetadata(
        xml=xml, entity_id=entity_id, name=_display_name(md, entity_id),
        want_authn_requests_signed=str(spsso.get("authn_requests_signed")).lower() == "true",
        has_encryption_key=bool(enc_keys))


def _display_name(md, entity_id: str) -> str | None:
    for org in (md.entity.get(entity_id) or {}).get("organization", {}).get(
            "organization_display_name", []):
        if org.get("text"):
            return org["text"]
    return urlsplit(entity_id).hostname


def register_sp(*, metadata: str, attributes: str | list[str], sign_mode: str = "both",
                encrypt: bool | None = None, name: str | None = None,
                metadata_cert: str | None = None, update: bool = False,
                actor: str | None = None) -> SAMLServiceProvider:
    """Register (or with `update`, refresh) an SP; flushes, the caller commits.

    `encrypt`: None encrypts when the metadata has an encryption key; True requires one."""
    if sign_mode not in SIGN_MODES:
        raise RegistrationError(f"--sign must be one of {', '.join(SIGN_MODES)}")
    schema = current_app.extensions["idp"]["saml"].schema
    try:
        names = schema.resolve(attributes)
    except AttributeConfigError as exc:
        raise RegistrationError(str(exc)) from exc
    xml = metadata if metadata.lstrip().startswith("<") else read_metadata(metadata)
    source = None if metadata.lstrip().startswith("<") else metadata[:500]
    parsed = parse_metadata(xml, metadata_cert or current_app.config.get("SAML_METADATA_CERT"))
    if encrypt and not parsed.has_encryption_key:
        raise RegistrationError("--encrypt needs an encryption key in the SP's metadata")
    row = db.session.scalar(select(SAMLServiceProvider).where(
        SAMLServiceProvider.entity_id == parsed.entity_id))
    if row is not None and not update:
        raise RegistrationError(f"{parsed.entity_id} is already registered")
    if row is None:
        row = SAMLServiceProvider(entity_id=parsed.entity_id)
        db.session.add(row)
    row.name = (name or parsed.name or parsed.entity_id)[:120]
    row.metadata_xml, row.metadata_source, row.attributes = xml, source, names
    row.sign_mode = sign_mode
    row.encrypt = parsed.has_encryption_key if encrypt is None else bool(encrypt)
    row.want_authn_requests_signed = parsed.want_authn_requests_signed
    row.enabled = True
    row.updated_at = utcnow()
    db.session.flush()
    record("saml_sp_registered", actor=actor, target=row.entity_id[:128], attributes=names,
           sign=sign_mode, encrypt=row.encrypt)
    return row


def _find(entity_id: str) -> SAMLServiceProvider:
    row = db.session.scalar(select(SAMLServiceProvider).where(
        SAMLServiceProvider.entity_id == entity_id))
    if row is None:
        raise RegistrationError(f"no SAML service provider {entity_id}")
    return row


def set_enabled(entity_id: str, enabled: bool,
                actor: str | None = None) -> SAMLServiceProvider:
    """Enable or disable: a disabled SP is refused from its next request on."""
    row = _find(entity_id)
    row.enabled = enabled
    row.updated_at = utcnow()
    db.session.flush()
    record("saml_sp_enabled" if enabled else "saml_sp_disabled", actor=actor,
           target=entity_id[:128])
    return row


def remove(entity_id: str) -> None:
    db.session.delete(_find(entity_id))
    db.session.flush()
    record("saml_sp_removed", target=entity_id[:128])
