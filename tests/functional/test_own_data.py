"""The family's own data (issue 20, point 5): "Télécharger mes données" (one JSON file:
account, links, consents, charter acceptances, sessions, audit events about the account)
and "Fermer mon compte" for a self-registered representative: sessions and refresh tokens
end, relying parties hear it by back-channel logout (outbox), the school's records stay,
personal data is erased, the audit keeps the event without the name. A school-issued
account, a pupil, a missing confirmation, an expired re-auth: a French message, nothing
changed."""
from __future__ import annotations

import json
import time
from datetime import timedelta
from html import unescape

from sqlalchemy import func, or_, select

from idp.db import db
from idp.extensions import passwords
from idp.journeys.account import reauth
from idp.models import (Account, AuditEvent, GuardianLink, RefreshToken, RepresentativeRecord,
                        utcnow)
from idp.notify.delivery import deliver_due
from idp.roster.credentials import locked_password_hash

from ..support.accounts import account_row, audit_actions, update_account
from ..support.backchannel import BackchannelReceiver, backchannel_rp  # noqa: F401
from ..support.browser import Browser
from ..support.gating import at_rp, authorize


class _Later:
    def __init__(self, seconds):
        self.offset = seconds

    def time(self):
        return time.time() + self.offset


def test_download_my_data(app, browser, make, gating):
    gating.charter()
    parent = make.account(with_pupils=2)
    browser.sign_in(parent.identifier, parent.password, steps=True)
    page = browser.get("/compte/mes-donnees")
    assert page.status_code == 200 and "Télécharger mes données" in unescape(page.text)
    response = browser.client.get("/compte/mes-donnees/telecharger")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.data)
    assert set(data) >= {"account", "links", "consents", "charter_acceptances",
                         "contact_preferences", "sessions", "audit_events"}
    assert data["account"]["identifier"] == parent.identifier
    assert data["account"]["email"] == "camille.martin@example.org"
    assert {p["first_name"] for p in data["links"]["pupils"]} == {"Enfant0", "Enfant1"}
    assert [c["version"] for c in data["charter_acceptances"]] == ["2026-09"]
    assert len(data["sessions"]) == 1 and data["sessions"][0]["current"]
    actions = {e["action"] for e in data["audit_events"]}
    assert "charter_accepted" in actions or "login" in actions
    assert "own_data_downloaded" in audit_actions(app)
    assert "password" not in json.dumps(data["audit_events"]).lower().replace(
        "password_", "")


def test_downloading_asks_the_password_again_after_the_window(app, browser, make,
                                                              monkeypatch):
    parent = make.account()
    browser.sign_in(parent.identifier, parent.password)
    monkeypatch.setattr(reauth, "time", _Later(3600))
    response = browser.client.get("/compte/mes-donnees/telecharger")
    assert response.status_code == 302 and "/compte/confirmer-mot-de-passe" in \
        response.location
    assert "own_data_downloaded" not in audit_actions(app)


def _representative_record(app, account_id: int) -> int:
    with app.app_context():
        record = RepresentativeRecord(academy_code="nancy-metz", match_key=f"k{account_id}",
                                      first_name="Camille", last_name="Martin",
                                      phone="+33611223344", account_id=account_id)
        db.session.add(record)
        db.session.commit()
        return record.id


def test_closing_a_self_registered_account(app, make, backchannel_rp, flow, gating):
    parent = make.account(with_pupils=1)  # no letter: made by the family (J4)
    record_id = _representative_record(app, parent.id)
    phone, computer = Browser(app.test_client()), Browser(app.test_client())
    assert at_rp(phone.sign_in(parent, start=authorize(phone, backchannel_rp)), backchannel_rp)
    flow.browser = computer
    tokens = flow.tokens_for(backchannel_rp, parent)
    page = computer.get("/compte/mes-donnees")
    assert "Fermer mon compte" in page.text

    unticked = computer.submit("/compte/fermer", {}, page_html=page.text)
    assert unticked.status_code == 400 and "Cochez la case" in unescape(unticked.text)
    assert account_row(app, parent.id).state.value == "active"

    done = computer.submit("/compte/fermer", {"understood": "y"}, page_html=page.text)
    assert done.request.path == "/compte/ferme" and "Compte fermé" in unescape(done.text)
    row = account_row(app, parent.id)
    assert row.state.value == "deleted" and row.identifier == f"deleted-{parent.public_id}"
    assert row.first_name == row.last_name == "" and row.email is None and row.phone is None
    assert row.public_id == parent.public_id  # never reused for someone else
    with app.app_context():
        # No usable password, the same one as every locked account: an argon2 hash of a
        # thrown-away secret, so checking it costs what a real check does and says no.
        assert row.password_hash == locked_password_hash()
        assert not passwords().verify(row.password_hash, parent.password)
    # Every session ended: this browser and the other device.
    assert computer.get("/").request.path == "/connexion"
    assert phone.get("/").request.path == "/connexion"
    # Refresh tokens end.
    refused = flow.client.post("/oidc/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(backchannel_rp.client_id, backchannel_rp.client_secret))
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    # Relying parties hear it by back channel (through the outbox).
    with app.app_context():
        deliver_due()
    assert len(BackchannelReceiver.received) == 2 and all("logout_token=" in b for b in BackchannelReceiver.received)
    with app.app_context():
        # The school's record stays; its link to the account is emptied.
        assert db.session.get(RepresentativeRecord, record_id).account_id is None
        assert db.session.scalar(select(func.count()).select_from(GuardianLink).where(
            GuardianLink.guardian_id == parent.id)) == 0
        assert db.session.scalar(select(func.count()).select_from(RefreshToken).where(
            RefreshToken.account_id == parent.id)) == 0
        # The audit keeps the events, not the name.
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(or_(
            AuditEvent.actor == parent.identifier, AuditEvent.target == parent.identifier))) == 0
        closed = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "account_closed"))
        assert closed.target == f"deleted:{parent.public_id}" and closed.actor is None
    # Signing in with the old identifier fails like any unknown one.
    again = Browser(app.test_client())
    assert again.sign_in(parent.identifier, parent.password).request.path == "/connexion"


def test_a_school_issued_account_is_closed_by_the_school(app, browser, make):
    parent = make.account()
    update_account(app, parent.id, issued_at=utcnow() - timedelta(days=30))
    browser.sign_in(parent.identifier, parent.password)
    page = browser.get("/compte/mes-donnees")
    assert "adressez-vous à l'établissement" in unescape(page.text)
    assert 'action="/compte/fermer"' not in page.text
    home = browser.get("/").text  # any page of the session gives a CSRF token
    after = browser.submit("/compte/fermer", {"understood": "y"}, page_html=home)
    assert "adressez-vous à l'établissement" in unescape(after.text)
    assert account_row(app, parent.id).state.value == "active"
    assert "account_closed" not in audit_actions(app)


def test_a_pupil_downloads_but_does_not_close(app, browser, make):
    family = make.family(with_pupils=1)
    pupil = family.pupils[0]
    browser.sign_in(pupil.identifier, pupil.password, profile="pupil", steps=True)
    page = browser.get("/compte/mes-donnees")
    assert "adresse-toi à ton établissement" in unescape(page.text)
    home = browser.get("/").text
    after = browser.submit("/compte/fermer", {"understood": "y"}, page_html=home)
    assert "adresse-toi à ton établissement" in unescape(after.text)
    assert account_row(app, pupil.id).state.value == "active"
    data = json.loads(browser.client.get("/compte/mes-donnees/telecharger").data)
    assert data["account"]["profile"] == "pupil"
    assert [g["first_name"] for g in data["links"]["guardians"]] == ["Camille"]


def test_closing_after_the_reauth_window_asks_the_password(app, browser, make, monkeypatch):
    parent = make.account()
    browser.sign_in(parent.identifier, parent.password)
    page = browser.get("/compte/mes-donnees")
    monkeypatch.setattr(reauth, "time", _Later(3600))
    after = browser.submit("/compte/fermer", {"understood": "y"}, page_html=page.text)
    assert after.request.path == "/compte/confirmer-mot-de-passe"
    assert account_row(app, parent.id).state.value == "active"
