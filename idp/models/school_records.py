"""What the schools know (roster imports), kept apart from the sign-in accounts.

A school record outlives its account: when a never-activated account is deleted, the
record stays (with `account_id` emptied) and a later import or letter can issue a new one.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class PupilRecord(Base):
    """A pupil as the school's information system exports it (one per national id)."""

    __tablename__ = "pupil_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    # INE (identifiant national élève): national, so a pupil who changes school keeps it.
    national_id: Mapped[str] = mapped_column(String(11), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date]
    class_name: Mapped[str | None] = mapped_column(String(32), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RepresentativeRecord(Base):
    """A legal representative known to the schools of one academy.

    `match_key` (folded names + first contact) lets siblings' rows, and later imports,
    find the same person without duplicating them."""

    __tablename__ = "representative_records"
    __table_args__ = (UniqueConstraint("academy_code", "match_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    academy_code: Mapped[str] = mapped_column(String(32))
    match_key: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordGuardianLink(Base):
    """The school says: this representative is responsible for this pupil (rank 1 or 2)."""

    __tablename__ = "record_guardian_links"
    __table_args__ = (UniqueConstraint("pupil_record_id", "representative_record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_record_id: Mapped[int] = mapped_column(
        ForeignKey("pupil_records.id", ondelete="CASCADE"), index=True)
    representative_record_id: Mapped[int] = mapped_column(
        ForeignKey("representative_records.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(default=1)


class RosterImport(Base):
    """One import of a school's CSV and its report (what the console shows the staff)."""

    __tablename__ = "roster_imports"
    __table_args__ = (Index("ix_roster_imports_school_at", "school_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    file_name: Mapped[str | None] = mapped_column(String(255))
    actor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    report: Mapped[dict] = mapped_column(default=dict)
