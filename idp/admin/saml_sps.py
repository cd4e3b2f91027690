"""SAML service providers as operators manage them: registration and metadata refresh go
through idp.saml.registry (parse, checks, audit); this module adds the edit of what the
IdP decides on its own side (name, released attributes, signing, encryption) without new
metadata, and the listing. Every edit is validated before the row changes; the SAML
server of each process rebuilds itself from `updated_at`.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import defer

from ..audit import record
from ..db import db
from ..models import SAMLServiceProvider
from ..models.base import utcnow
from ..saml.registry import (MAX_METADATA_BYTES, RegistrationError, checked_sp, oversize,
                             parse_metadata, refused)

MAX_UPLOAD = MAX_METADATA_BYTES


def metadata_text(data: bytes) -> str:
    """Uploaded metadata as text: at most 1 MiB (validate_sp's limit) of UTF-8."""
    if problem := oversize(data):
        raise refused({"metadata": problem})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistrationError(f"metadata is not UTF-8 text (byte {exc.start})") from exc


def require_sp(sp_id: int) -> SAMLServiceProvider:
    row = db.session.get(SAMLServiceProvider, sp_id)
    if row is None:
        raise RegistrationError(f"no SAML service provider #{sp_id}")
    return row


def edited_values(row: SAMLServiceProvider, *, name=None, attributes=None, sign_mode=None,
                  encrypt=None) -> dict:
    """An edit as validate_sp reads it (None: unchanged). Encryption newly asked needs
    a key in the stored metadata (an SP already encrypting has one)."""
    values = {"name": name, "attributes": attributes, "encrypt": encrypt}
    if sign_mode is not None:
        values["sign_mode"] = sign_mode
    if encrypt and not row.encrypt:
        values["encryption_key"] = parse_metadata(row.metadata_xml).has_encryption_key
    else:
        values["encryption_key"] = True
    return values


def update_sp(row: SAMLServiceProvider, *, name: str | None = None,
              attributes: str | list[str] | None = None, sign_mode: str | None = None,
              encrypt: bool | None = None, actor: str | None = None) -> SAMLServiceProvider:
    """Change name, released attributes, signing or encryption (None: unchanged); the
    rules are validate_sp's, checked before the row changes."""
    checked = checked_sp(edited_values(row, name=name, attributes=attributes,
                                       sign_mode=sign_mode, encrypt=encrypt))
    before = {"name": row.name, "attributes": list(row.attributes), "sign": row.sign_mode,
              "encrypt": row.encrypt}
    if name is not None:
        row.name = checked["name"]
    if attributes is not None:
        row.attributes = checked["attributes"]
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
