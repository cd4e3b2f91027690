from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class SAMLServiceProvider(Base):
    """A registered SAML 2.0 service provider (relying party), known by its metadata."""

    __tablename__ = "saml_service_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(500), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The SP's metadata as registered (signature checked at registration when a
    # federation certificate is configured); ACS, SLO endpoints and keys come from it.
    metadata_xml: Mapped[str] = mapped_column(Text)
    metadata_source: Mapped[str | None] = mapped_column(String(500))  # file or URL
    # Attribute names (config/saml_attributes.toml) released to this SP, nothing else.
    attributes: Mapped[list] = mapped_column(default=list)
    sign_mode: Mapped[str] = mapped_column(String(10), default="both")  # response|assertion|both
    encrypt: Mapped[bool] = mapped_column(default=False)
    want_authn_requests_signed: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Marked by an administrator as the school's own service: no consent page.
    trusted_for_school: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped on every change: the pysaml2 server of each process rebuilds when it differs.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
