from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, Index, String
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
    deleted = "deleted"              # never activated, personal data erased (tombstone)


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
    # School-issued accounts (roster issue): `identifier` minus its trailing digits, so
    # `p.nomXX` allocation finds the taken numbers with one indexed lookup.
    identifier_stem: Mapped[str | None] = mapped_column(
        String(64), index=True, default=lambda ctx: _stem(ctx.get_current_parameters()))
    # Salted SHA-256 of the letter's random provisional password (a high-entropy secret:
    # a fast hash is right, like client secrets); cleared at first connection.
    provisional_password_hash: Mapped[str | None] = mapped_column(String(100))
    issued_at: Mapped[datetime | None]            # last notification letter
    activation_deadline: Mapped[datetime | None]  # issued_at + the activation window
    activated_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]
    # Wrong birth dates at first connection; at the limit the account waits for the school.
    birth_date_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    # A legal representative gave this pupil a temporary password ("Mes enfants"): the
    # pupil must choose a new one at the next sign-in (the first-connection form without
    # the birth-date question). Cleared when chosen. Migration family0001.
    guardian_reset_at: Mapped[datetime | None]
    # "Ajouter un enfant" with this (provisional) account's letter: the family already had
    # an account, which took over its pupils; this one is retired (deactivated, never
    # reactivated) and the school sees which account it was merged into. Migration
    # family0002.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"))
    # Credential stuffing (issue 17, migration stuffing0001): when the family last chose
    # its password (forced-change campaigns filter on it; None: before this was recorded,
    # read as the activation), and the time before which device cookies stop counting
    # ("Ce n'était pas moi", security/device_cookies.py).
    password_changed_at: Mapped[datetime | None]
    devices_revoked_at: Mapped[datetime | None]

    # Loaded when used (claims, attributes): most requests need the account alone, and
    # a joined load on every sign-in check cost ~10% of an authorize request.
    school = relationship("School", lazy="select")
    merged_into = relationship("Account", remote_side=[id], lazy="select")

    __table_args__ = (Index("ix_accounts_state_deadline", "state", "activation_deadline"),
                      Index("ix_accounts_state_issued", "state", "issued_at"))

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.identifier


def _stem(params: dict) -> str | None:
    identifier = params.get("identifier")
    return identifier.rstrip("0123456789") if identifier else None
