"""People who run the IdP (operators, school staff, auditors): kept apart from families.

A staff account never signs in to a relying party; it opens the console at /admin with a
password and a TOTP code. School staff see only the schools linked to them.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class StaffRole(str, enum.Enum):
    operator = "operator"          # everything: relying parties, keys, charters, all schools
    school_staff = "school_staff"  # support for the schools assigned to them, nothing else
    auditor = "auditor"            # reads everything, changes nothing


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(Enum(StaffRole, native_enum=False, length=20))
    # Fernet-sealed TOTP secret (idp.security.totp.seal); None until enrolled.
    totp_secret_sealed: Mapped[str | None] = mapped_column(String(255))
    totp_enrolled_at: Mapped[datetime | None]
    # SHA-256 of the unused recovery codes (each removed when used).
    recovery_code_hashes: Mapped[list] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Bumped on disable, password or TOTP reset: console sessions opened before end.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]

    schools = relationship("School", secondary="staff_schools", lazy="selectin",
                           order_by="School.uai")


class StaffSchool(Base):
    """A school a school-staff member supports."""

    __tablename__ = "staff_schools"
    __table_args__ = (UniqueConstraint("staff_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), index=True)
