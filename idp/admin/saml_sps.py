"""SAML service providers as operators manage them: registration and metadata refresh go
through idp.saml.registry (parse, checks, audit); this module adds the edit of what the
IdP decides on its own side (name, released attributes, signing, encryption) without new
metadata, and the listing. Every edit is validated before the row changes; the SAML
server of each process rebuilds itself from `updated_at`.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import defer

from ..audit import record
from ..db import db
from ..models import SAMLServiceProvider
from ..models.base import utcnow
from ..saml.attributes import AttributeConfigError
from ..saml.registry import SIGN_MODES, RegistrationError, parse_metadata

MAX_UPLOAD = 1 << 20


def metadata_text(data: bytes) -> str:
    """Uploaded metadata as text: at most 1 MiB of UTF-8."""
    if len(data) > MAX_UPLOAD:
        raise RegistrationError("metadata larger than 1 MiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistrationError(f"metadata is not UTF-8 text (byte {exc.start})") from exc


def require_sp(sp_id: int) -> SAMLServiceProvider:
    row = db.session.get(SAMLServiceProvider, sp_id)
    if row is None:
        raise RegistrationError(f"no SAML service provider #{sp_id}")
    return row


def find_by_entity_id(entity_id: str) -> SAMLServiceProvider:
    row = db.session.scalar(select(SAMLServiceProvider).where(
        SAMLServiceProvider.entity_id == entity_id))
    if row is None:
        raise RegistrationError(f"no SAML service provider {entity_id}")
    return row


def resolve_attributes(attributes: str | list[str]) -> list[str]:
    schema = current_app.extensions["idp"]["saml"].schema
    try:
        return schema.resolve(attributes)
    except AttributeConfigError as exc:
        raise RegistrationError(str(exc)) from exc


def update_sp(row: SAMLServiceProvider, *, name: str | None = None,
              attributes: str | list[str] | None = None, sign_mode: str | None = None,
              encrypt: bool | None = None, actor: str | None = None) -> SAMLServiceProvider:
    """Change name, released attributes, signing or encryption (None: unchanged)."""
    names = resolve_attributes(attributes) if attributes is not None else row.attributes
    if sign_mode is not None and sign_mode not in SIGN_MODES:
        raise RegistrationError(f"--sign must be one of {', '.join(SIGN_MODES)}")
    if name is not None and not name.strip():
        raise RegistrationError("a service provider needs a name")
    if encrypt and not row.encrypt:
        # The key comes from the stored metadata: encryption needs one there.
        if not parse_metadata(row.metadata_xml).has_encryption_key:
            raise RegistrationError("--encrypt needs an encryption key in the SP's metadata")
    before = {"name": row.name, "attributes": list(row.attributes), "sign": row.sign_mode,
              "encrypt": row.encrypt}
    if name is not None:
        row.name = name.strip()[:120]
    row.attributes = names
    if sign_mode is not None:
        row.sign_mode = sign_mode
    if encrypt is not None:
        row.encrypt = bool(encrypt)
    row.updated_at = utcnow()
    db.session.flush()
    after = {"name": row.name, "attributes": row.attributes, "sign": row.sign_mode,
             "encrypt": row.encrypt}
    record("saml_sp_updated", actor=actor, target=row.entity_id[:128],
           changed=sorted(k for k in after if after[k] != before[k]),
           attributes=row.attributes, sign=row.sign_mode, encrypt=row.encrypt)
    return row


def describe(row: SAMLServiceProvider) -> dict:
    return {"id": row.id, "entity_id": row.entity_id, "name": row.name,
            "enabled": row.enabled, "attributes": row.attributes, "sign": row.sign_mode,
            "encrypt": row.encrypt, "want_authn_requests_signed": row.want_authn_requests_signed,
            "metadata_source": row.metadata_source,
            "trusted_for_school": bool(getattr(row, "trusted_for_school", False)),
            "updated_at": row.updated_at.isoformat() if row.updated_at else None}


def list_sps() -> list[SAMLServiceProvider]:
    # Without the metadata column's text: a list page needs only the settings.
    return list(db.session.scalars(select(SAMLServiceProvider).options(
        defer(SAMLServiceProvider.metadata_xml)).order_by(SAMLServiceProvider.name)))
