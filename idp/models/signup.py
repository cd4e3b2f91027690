"""Self-registration (J4): links a family declined, kept for the school to see."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class DeclinedGuardianLink(Base):
    """At sign-up the person holding the representative's phone said "Je ne suis pas le
    représentant légal de cet élève": the school's record may be wrong. The record-level
    link stays (it is the school's data); the new account is not linked to the pupil."""

    __tablename__ = "declined_guardian_links"
    __table_args__ = (UniqueConstraint("representative_record_id", "pupil_record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    representative_record_id: Mapped[int] = mapped_column(
        ForeignKey("representative_records.id", ondelete="CASCADE",
                   name="fk_declined_guardian_links_representative"), index=True)
    pupil_record_id: Mapped[int] = mapped_column(
        ForeignKey("pupil_records.id", ondelete="CASCADE"), index=True)
    # The pupil's school when declined: what the school's staff list.
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    declined_at: Mapped[datetime] = mapped_column(default=utcnow)
