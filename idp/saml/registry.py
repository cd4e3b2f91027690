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
from flask_babel import lazy_gettext as _l
from saml2 import BINDING_HTTP_POST
from saml2.mdstore import InMemoryMetaData
from saml2.time_util import str_to_time
from sqlalchemy import select

from ..audit import record
from ..db import db
from ..models import SAMLServiceProvider
from ..models.base import utcnow
from ..relying_parties import Problem
from .attributes import AttributeConfigError
from .crypto_backend import XmlsecBackend
from .xml_safety import UnsafeXMLError, parse_xml

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
MAX_METADATA_BYTES = 1 << 20
SIGN_MODES = ("response", "assertion", "both")


class RegistrationError(ValueError):
    """Metadata or options we refuse (the message is one line, for the CLI). `problems`
    holds every refusal by field (validate_sp)."""

    def __init__(self, message: str, problems: dict | None = None):
        super().__init__(message)
        self.problems = problems or {}


def _metadata_problem(message: str, french=None) -> Problem:
    return Problem(message, french or _l("Métadonnées refusées : %(reason)s", reason=message))


def refused(problems: dict[str, Problem]) -> RegistrationError:
    return RegistrationError(next(iter(problems.values())).message, problems)


def oversize(data: bytes | str) -> Problem | None:
    """The 1 MiB limit of metadata, however it came (file, URL, upload, text)."""
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    return _metadata_problem("metadata larger than 1 MiB") if size > MAX_METADATA_BYTES \
        else None


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
    if problem := oversize(data):
        raise refused({"metadata": problem})
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


def lookup_sp(entity_id: str) -> SAMLServiceProvider | None:
    """The one lookup of a registered SP by entity id (enabled or not)."""
    return db.session.scalar(select(SAMLServiceProvider).where(
        SAMLServiceProvider.entity_id == entity_id))


def find_by_entity_id(entity_id: str) -> SAMLServiceProvider:
    row = lookup_sp(entity_id)
    if row is None:
        raise RegistrationError(f"no SAML service provider {entity_id}")
    return row


MAX_NAME = 120  # the column's length


def _checked_sp(values: dict) -> tuple[dict[str, Problem], dict]:
    """The rules, and what they found: (problems by field, checked values)."""
    problems: dict[str, Problem] = {}
    out: dict = {}
    xml = values.get("metadata")
    if xml is not None:
        if problem := oversize(xml):
            problems["metadata"] = problem
        else:
            try:
                out["parsed"] = parse_metadata(xml, values.get("metadata_cert") or
                                               current_app.config.get("SAML_METADATA_CERT"))
            except RegistrationError as exc:
                problems["metadata"] = _metadata_problem(str(exc))
        parsed = out.get("parsed")
        if parsed and values.get("new") and lookup_sp(parsed.entity_id) is not None:
            problems["metadata"] = _metadata_problem(
                f"{parsed.entity_id} is already registered",
                _l("%(entity)s est déjà enregistré.", entity=parsed.entity_id))
    name = values.get("name")
    if name is not None:
        out["name"] = name = name.strip()
        if not name:
            problems["name"] = Problem("a service provider needs a name",
                                       _l("Donnez un nom au service."))
        elif len(name) > MAX_NAME:
            problems["name"] = Problem(
                f"a service provider name has at most {MAX_NAME} characters",
                _l("120 caractères au plus."))
    if values.get("attributes") is not None:
        schema = current_app.extensions["idp"]["saml"].schema
        try:
            out["attributes"] = schema.resolve(values["attributes"])
        except AttributeConfigError as exc:
            problems["attributes"] = Problem(str(exc), _l(
                "Choisissez un profil ou au moins un attribut.") if not values["attributes"]
                else _l("Attributs ou profil inconnus."))
    sign_mode = values.get("sign_mode")
    if "sign_mode" in values and sign_mode not in SIGN_MODES:
        problems["sign_mode"] = Problem(
            f"--sign must be one of {', '.join(SIGN_MODES)}",
            _l("Choisissez ce qui est signé : la réponse, l'assertion ou les deux."))
    if values.get("encrypt"):
        parsed = out.get("parsed")
        key = parsed.has_encryption_key if parsed else values.get("encryption_key")
        if not key and "metadata" not in problems:
            problems["encrypt"] = Problem(
                "--encrypt needs an encryption key in the SP's metadata",
                _l("Le chiffrement demande une clé de chiffrement dans les métadonnées du "
                   "service."))
    return problems, out


def validate_sp(values: dict) -> dict[str, Problem]:
    """Every rule an SP's settings follow, for a registration, a metadata refresh and an
    edit alike: {field: problem}, empty when all is well. `values` may hold:

    metadata      new metadata text (registration, refresh): 1 MiB, parsed and checked
    metadata_cert the certificate the metadata must be signed with (default: the config)
    new           True for a registration: the entity id must not be registered yet
    name          the name shown (None: from the metadata, or unchanged on an edit)
    attributes    a profile, a comma-separated list or a list (None: unchanged)
    sign_mode     what is signed (when the key is present: required)
    encrypt       True needs an encryption key: the new metadata's, else `encryption_key`
                  (whether the stored metadata has one, for an edit)

    Used by register_sp, the admin edit, the CLI and the console forms (which show
    `problem.shown()`, in French, beside the field)."""
    return _checked_sp(values)[0]


def checked_sp(values: dict) -> dict:
    """The checked values (parsed, name, attributes), or RegistrationError."""
    problems, out = _checked_sp(values)
    if problems:
        raise refused(problems)
    return out


def register_sp(*, metadata: str, attributes: str | list[str], sign_mode: str = "both",
                encrypt: bool | None = None, name: str | None = None,
                metadata_cert: str | None = None, update: bool = False,
                actor: str | None = None) -> SAMLServiceProvider:
    """Register (or with `update`, refresh) an SP; flushes, the caller commits.

    `metadata`: the text, a file or an http(s) URL. The rules are validate_sp's.
    `encrypt`: None encrypts when the metadata has an encryption key; True requires one."""
    inline = metadata.lstrip().startswith("<")
    xml = metadata if inline else read_metadata(metadata)
    source = None if inline else metadata[:500]
    checked = checked_sp({"metadata": xml, "metadata_cert": metadata_cert, "new": not update,
                          "name": name, "attributes": attributes, "sign_mode": sign_mode,
                          "encrypt": encrypt})
    parsed, names = checked["parsed"], checked["attributes"]
    row = lookup_sp(parsed.entity_id)
    if row is None:
        row = SAMLServiceProvider(entity_id=parsed.entity_id)
        db.session.add(row)
    row.name = checked.get("name") or (parsed.name or parsed.entity_id)[:MAX_NAME]
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


def set_enabled(entity_id: str, enabled: bool,
                actor: str | None = None) -> SAMLServiceProvider:
    """Enable or disable: a disabled SP is refused from its next request on."""
    row = find_by_entity_id(entity_id)
    row.enabled = enabled
    row.updated_at = utcnow()
    db.session.flush()
    record("saml_sp_enabled" if enabled else "saml_sp_disabled", actor=actor,
           target=entity_id[:128])
    return row


def remove(entity_id: str) -> None:
    db.session.delete(find_by_entity_id(entity_id))
    db.session.flush()
    record("saml_sp_removed", target=entity_id[:128])
