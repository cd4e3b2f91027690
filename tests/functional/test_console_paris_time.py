"""The staff console shows times in Paris time (« heure de Paris »), stored in UTC: the
audit trail's rows in summer and winter, the waiting room's hourly counts; the CSV
export keeps UTC."""
from __future__ import annotations

import html
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from idp.db import db
from idp.local_time import paris
from idp.models import AuditEvent, SigningKey



def test_the_audit_trail_shows_paris_time(app, operator):
    with app.app_context():
        db.session.add_all([
            AuditEvent(action="login_failed", target="p.summer", details={},
                       at=datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc)),
            AuditEvent(action="login_failed", target="p.winter", details={},
                       at=datetime(2026, 1, 15, 10, 0, tzinfo=timezone.utc))])
        db.session.commit()
    page = operator.get("/admin/journal?action=login_failed")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Quand (heure de Paris)" in text and "UTC" not in text
    assert "<td>01/07/2026 12:00:00</td>" in text  # CEST
    assert "<td>15/01/2026 11:00:00</td>" in text  # CET
    assert "10:00:00" not in text
    export = operator.get("/admin/journal.csv?action=login_failed")
    assert export.status_code == 200
    assert "2026-07-01T10:00:00+00:00" in export.data.decode("utf-8-sig")  # still UTC


def test_the_hourly_sign_in_counts_are_paris_hours(app, operator):
    before = paris(int(time.time() // 3600) * 3600, "%d/%m %H:00")
    page = operator.get("/admin/")
    after = paris(int(time.time() // 3600) * 3600, "%d/%m %H:00")
    assert page.status_code == 200
    assert "Connexions par heure (heure de Paris), tous serveurs" in html.unescape(page.text)
    assert f"<td>{before}</td>" in page.text or f"<td>{after}</td>" in page.text


def test_the_console_speaks_english_too(app, operator):
    page = operator.get("/admin/journal?lang=en")
    assert page.status_code == 200
    assert "Paris time" in html.unescape(page.text)


def test_the_signing_keys_page_shows_creation_in_paris_time(app, operator):
    with app.app_context():
        key = db.session.scalars(select(SigningKey).where(SigningKey.purpose != "saml")
                                 .order_by(SigningKey.id.desc())).first()
        created = paris(key.created_at, "%Y-%m-%d %H:%M")
    page = operator.get("/admin/cles")
    assert page.status_code == 200
    assert f"<td>{created}</td>" in page.text
