"""FranceConnect (issue 19): the link between a FranceConnect identity and an account.

FranceConnect gives each service its own `sub` for a person; once linked, signing in
with FranceConnect finds the account by it alone (never by email or phone). The pivot
identity received at linking time is kept here: it is where the account's names and
birth date come from, read-only while the link stands.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class FranceConnectLink(Base):
    __tablename__ = "franceconnect_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    sub: Mapped[str] = mapped_column(String(255), unique=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birthdate: Mapped[date | None]
    birthplace: Mapped[str | None] = mapped_column(String(5))    # INSEE code, "" abroad
    birthcountry: Mapped[str | None] = mapped_column(String(5))  # 99100: France
    # True when linking made the account (it has no password until one is chosen).
    created_account: Mapped[bool] = mapped_column(default=False)
    # The hash put in `accounts.password_hash` when the account was made without a
    # password (an argon2 hash of a secret thrown away): the account has a password of
    # its own once its hash differs.
    placeholder_hash: Mapped[str | None] = mapped_column(String(255))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
