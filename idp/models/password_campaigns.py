"""Forced password change campaigns (issue 17, point 3): after a leak an operator forces a
population of accounts to choose a new password at their next sign-in, as the ministry
did in spring 2024. A campaign row says who asked, when and with which filters; one
demand row per account forced, done once the family chose its new password."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class PasswordCampaign(Base):
    __tablename__ = "password_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))  # a staff identifier or "cli"
    # The filters as given (profile, academy, uai, changed_before): shown in the console.
    filters: Mapped[dict] = mapped_column(default=dict)
    forced: Mapped[int] = mapped_column(default=0)


class PasswordChangeDemand(Base):
    """One account forced by one campaign; `done_at` once the new password is chosen."""

    __tablename__ = "password_change_demands"
    __table_args__ = (Index("ix_password_change_demands_account_done", "account_id", "done_at"),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("password_campaigns.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    forced_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
