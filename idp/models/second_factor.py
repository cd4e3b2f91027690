"""A family's optional second factor: a TOTP secret (sealed) and single-use recovery codes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class SecondFactor(Base):
    """An enrolled TOTP authenticator; one per account. The row exists only once the
    family has confirmed a first code (a half-done enrolment lives in the session)."""

    __tablename__ = "second_factors"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    # Fernet-sealed base32 secret (idp/security/totp.py seal/unseal): it must be readable
    # to check codes, so it is encrypted rather than hashed.
    sealed_secret: Mapped[str] = mapped_column(String(255))
    enabled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """One recovery code, stored as its SHA-256 (a random secret: a fast hash is right);
    each works once."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_account_hash", "account_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
