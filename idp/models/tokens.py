from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class RefreshToken(Base):
    """One refresh token of a grant. Rotation makes a chain sharing `grant_id`;
    presenting a rotated (used) token revokes the whole chain (RFC 9700 4.14)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(String(32), index=True)
    # Not indexed: tokens are found by token_hash, grant_id or account_id (an index here
    # tempted the planner away from token_hash; migration oidcperf0001).
    client_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    scope: Mapped[str] = mapped_column(String(500))
    # Userinfo claims asked by the `claims` parameter (space-separated names; migration
    # claims0001), carried through every rotation like the scope.
    claims: Mapped[str | None] = mapped_column(String(500))
    sid: Mapped[str | None] = mapped_column(String(64))
    auth_time: Mapped[int] = mapped_column(default=0)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used: Mapped[bool] = mapped_column(default=False)
    revoked: Mapped[bool] = mapped_column(default=False)
