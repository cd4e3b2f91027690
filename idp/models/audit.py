from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class AuditEvent(Base):
    """Who did what, when, from where. Never a password, code or token."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str | None] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(128), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    # The request that wrote it (idp/ops: X-Request-Id, also in the JSON log lines).
    request_id: Mapped[str | None] = mapped_column(String(128), index=True)
    details: Mapped[dict] = mapped_column(default=dict)
