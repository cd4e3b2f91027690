"""Helpers for the J5 steps: publish charters and notices, start an OIDC authorization
(browser.sign_in(account, start=authorize(browser, rp)) signs in and stops at the first
step page), read what was recorded."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent, OIDCClient

from .factories import CHARTER_TEXT, NOTICE_TEXT, CharterVersionFactory, RPNoticeFactory
from .oidc import authorize_params, pkce_pair, query


class Gating:
    """Bound to the app and a temporary directory (the `gating` fixture)."""

    def __init__(self, app, tmp_path: Path):
        self.app = app
        self.tmp = tmp_path

    def charter(self, version: str = "2026-09", text: str = CHARTER_TEXT,
                rp_key: str | None = None, pupil_text: str | None = None) -> int:
        """Publish a charter version (general, or an RP's own; with the pupils' wording
        when `pupil_text` is given); its id."""
        return CharterVersionFactory(version=version, text=text, rp_key=rp_key,
                                     pupil_text=pupil_text, directory=self.tmp).id

    def notice(self, rp_key: str, version: str = "2026-09", text: str = NOTICE_TEXT,
               pupil_text: str | None = None) -> int:
        """Publish an RP's notice version (with the pupils' wording when `pupil_text` is
        given); its id."""
        return RPNoticeFactory(rp_key=rp_key, version=version, text=text,
                               pupil_text=pupil_text, directory=self.tmp).id

    def untrust(self, rp) -> None:
        """Make a test RP ask for consent (factories make them trusted)."""
        with self.app.app_context():
            row = db.session.scalar(select(OIDCClient).where(OIDCClient.client_id == rp.client_id))
            row.trusted_for_school = False
            db.session.commit()

    def rows(self, model, **where) -> list:
        """Rows of `model` matching `where`, read in a fresh app context."""
        with self.app.app_context():
            stmt = select(model)
            for name, value in where.items():
                stmt = stmt.where(getattr(model, name) == value)
            rows = db.session.scalars(stmt).all()
            db.session.expunge_all()
            return rows

    def actions(self) -> list[str]:
        with self.app.app_context():
            return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def authorize(browser, rp, **extra):
    """Start an OIDC authorization (PKCE) in `browser`; the page it lands on."""
    _, challenge = pkce_pair()
    return browser.get("/oidc/authorize",
                       query_string=authorize_params(rp, challenge=challenge, **extra))


def at_rp(response, rp) -> dict | None:
    """The query the RP receives when `response` redirects to its redirect URI."""
    if response.status_code in (302, 303) and response.location.startswith(rp.redirect_uri):
        return query(response.location)
    return None
