"""What a family agreed to before reaching a service: charter versions and their
acceptance, contact preferences, relying parties' one-time notices, consents.

Relying parties are named by an `rp_key` ("oidc:<client_id>" or "saml:<entity_id>"), not
by a foreign key: the same tables serve both protocols.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

GENERAL_AUDIENCE = "general"
RP_KEY_LENGTH = 520  # "saml:" + a 500-character entity id


class CharterVersion(Base):
    """A published charter text. `audience` is "general" (every account) or the rp_key
    of the relying party that requires a charter of its own. `pupil_body`, when given, is
    the same version worded with "tu", shown to pupils (parents and pupils without it see
    `body`); accepting either is accepting this version."""

    __tablename__ = "charter_versions"
    __table_args__ = (UniqueConstraint("audience", "version"),
                      Index("ix_charter_versions_audience_published", "audience",
                            "published_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(String(RP_KEY_LENGTH), default=GENERAL_AUDIENCE)
    version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    pupil_body: Mapped[str | None] = mapped_column(Text)
    source_path: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class CharterAcceptance(Base):
    __tablename__ = "charter_acceptances"
    __table_args__ = (UniqueConstraint("account_id", "charter_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    charter_version_id: Mapped[int] = mapped_column(
        ForeignKey("charter_versions.id", ondelete="CASCADE"), index=True)
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)

    charter = relationship("CharterVersion", lazy="joined")


class ContactPreferences(Base):
    """The answer to "Contact et préférences": one row per account, written when the
    family saved the page (`asked_at`), with the notification opt-ins."""

    __tablename__ = "contact_preferences"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    notify_region: Mapped[bool] = mapped_column(default=False)
    notify_department: Mapped[bool] = mapped_column(default=False)
    notify_academy: Mapped[bool] = mapped_column(default=False)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)


class RPNotice(Base):
    """A relying party's one-time notice (PRONOTE: "j'ai pris connaissance de ces
    informations"); a new version is acknowledged again. `pupil_body`, when given, is the
    same version worded with "tu", shown to pupils (parents and pupils without it see
    `body`), as for a charter version."""

    __tablename__ = "rp_notices"
    __table_args__ = (UniqueConstraint("rp_key", "version"),
                      Index("ix_rp_notices_rp_key_published", "rp_key", "published_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rp_key: Mapped[str] = mapped_column(String(RP_KEY_LENGTH))
    version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    pupil_body: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class RPNoticeAcknowledgment(Base):
    __tablename__ = "rp_notice_acknowledgments"
    __table_args__ = (UniqueConstraint("account_id", "notice_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("rp_notices.id", ondelete="CASCADE"),
                                           index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(Base):
    """What an account let a relying party receive: OIDC scopes or SAML attribute names.
    At most one live row per (account, RP); a withdrawn one keeps `withdrawn_at`."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_account_rp", "account_id", "rp_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    rp_key: Mapped[str] = mapped_column(String(RP_KEY_LENGTH))
    claims: Mapped[list] = mapped_column(default=list)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
