from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class OIDCClient(Base):
    """A registered OpenID Connect relying party."""

    __tablename__ = "oidc_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # SHA-256 of a 256-bit random secret: a fast hash is right for a random secret.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    public: Mapped[bool] = mapped_column(default=False)
    redirect_uris: Mapped[list] = mapped_column(default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500))
    scopes: Mapped[list] = mapped_column(default=list)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40),
                                                            default="client_secret_basic")
    jwks_uri: Mapped[str | None] = mapped_column(String(500))
    jwks: Mapped[dict | None]
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(10), default="RS256")
    pairwise: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Marked by an administrator as the school's own service: no consent page (the
    # charter and notices still apply). prompt=consent still shows it.
    trusted_for_school: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
