"""The IdP's signing keys (OIDC JWKS, SAML metadata), shared by every node.

Data only: idp/keys/ makes, seals, rotates and caches them. The private part is sealed
(encrypted and authenticated) with the key-encryption key from the environment; the
public part (a SubjectPublicKeyInfo for OIDC, the X.509 certificate for SAML) is what
the JWKS and the metadata publish.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

_CURRENT = text("state <> 'retired'")


class SigningKey(Base):
    """One key pair. States: `next` (SAML: published in the metadata, not signing yet),
    `active` (published; signs from `signs_from`), `retired` (signs until `retired_at`,
    then stays published for KEY_GRACE_DAYS, then is deleted)."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))     # "oidc" | "saml"
    alg: Mapped[str] = mapped_column(String(16))        # RS256 | ES256 (SAML: RSA-SHA256)
    state: Mapped[str] = mapped_column(String(8))       # next | active | retired
    public_pem: Mapped[str] = mapped_column(Text)
    sealed_private: Mapped[str] = mapped_column(Text)   # idp/keys/sealing.py
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signs_from: Mapped[datetime | None] = mapped_column()   # None while `next`
    retired_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        # At most one active and one next key per purpose and algorithm: of two nodes
        # rotating at once, exactly one insert succeeds.
        Index("uq_signing_keys_current", "purpose", "alg", "state", unique=True,
              sqlite_where=_CURRENT, postgresql_where=_CURRENT),
        CheckConstraint("state IN ('next', 'active', 'retired')", name="state"),
        CheckConstraint("purpose IN ('oidc', 'saml')", name="purpose"),
    )
