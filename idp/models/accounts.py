from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class AccountProfile(str, enum.Enum):
    parent = "parent"  # représentant légal
    pupil = "pupil"    # élève


class AccountState(str, enum.Enum):
    provisional = "provisional"      # school letter issued, never signed in
    pending_email = "pending_email"  # first connection done, email link not yet clicked
    active = "active"
    deactivated = "deactivated"


class Account(Base):
    """A family member's sign-in account (a parent or a pupil)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Opaque, stable person id given to relying parties (FrEduCtId); never the identifier.
    public_id: Mapped[str] = mapped_column(String(36), unique=True,
                                           default=lambda: str(uuid.uuid4()))
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    profile: Mapped[AccountProfile] = mapped_column(Enum(AccountProfile, native_enum=False))
    state: Mapped[AccountState] = mapped_column(
        Enum(AccountState, native_enum=False), default=AccountState.active, index=True)
    academy_code: Mapped[str] = mapped_column(String(32))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    email_verified: Mapped[bool] = mapped_column(default=False)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    birth_date: Mapped[date | None]
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    class_name: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped on password change and "sign out everywhere": older sessions are dead.
    session_epoch: Mapped[int] = mapped_column(default=0)

    school = relationship("School", lazy="joined")

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.identifier
