"""New-device notice (issue 17, point 5): a sign-in from a browser the family never used
queues a notice (verified email, else SMS) naming the device and the time, with a "Ce
n'était pas moi" link that ends every session and starts a reset. Not for a known
device, a family member's device or a first connection; it names no other account."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from idp.db import db
from idp.models import OutboxMessage, RefreshToken

from ..support.accounts import update_account
from ..support.browser import Browser

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture(autouse=True)
def notices_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "NEW_DEVICE_NOTICE", True)


def _browser(app, ip="192.0.2.90"):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": ip, "HTTP_USER_AGENT": FIREFOX})
    return Browser(client)


def _notices(app, recipient):
    with app.app_context():
        return db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "new_device",
            OutboxMessage.recipient == recipient).order_by(OutboxMessage.id)).all()


def _link(message) -> str:
    return re.search(r"https?://\S+(/connexion/ce-netait-pas-moi/\S+)", message.text).group(1)


def test_a_new_device_is_told_once_by_email(app, make):
    parent = make.account(email="notice.parent@example.org")
    browser = _browser(app)
    assert browser.sign_in(parent).request.path == "/"
    [notice] = _notices(app, "notice.parent@example.org")
    assert notice.channel == "email" and "Nouvelle connexion" in notice.subject
    assert "Firefox (Windows)" in notice.text and parent.identifier in notice.text
    assert "/connexion/ce-netait-pas-moi/" in notice.text
    browser.logout()
    browser.sign_in(parent)  # the same browser again: a known device
    assert len(_notices(app, "notice.parent@example.org")) == 1


def test_without_a_verified_email_the_notice_goes_by_sms(app, make):
    parent = make.account(email=None)
    update_account(app, parent.id, phone="+33612345690")
    _browser(app).sign_in(parent)
    [notice] = _notices(app, "+33612345690")
    assert notice.channel == "sms" and "Ce n'était pas vous ?" in notice.text


def test_a_device_the_family_used_is_known(app, make):
    parent = make.account(email="notice.family@example.org", with_pupils=1)
    pupil_identifier = f"e.martin{parent.identifier[len('c.martin'):]}0"
    browser = _browser(app)
    assert browser.sign_in(pupil_identifier, parent.password,
                           profile="pupil", steps=True).request.path == "/"
    browser.logout()
    browser.sign_in(parent)
    assert _notices(app, "notice.family@example.org") == []


def test_no_notice_at_a_first_connection(app, make):
    pupil = make.account(pupil=True, provisional=True, email="notice.first@example.org")
    _browser(app).sign_in(pupil, steps=False)
    assert _notices(app, "notice.first@example.org") == []


def test_ce_netait_pas_moi_ends_every_session_forgets_devices_and_starts_a_reset(
        app, make, flow, rp):
    parent = make.account(email="notice.intrus@example.org")
    family = _browser(app, "192.0.2.91")
    assert family.sign_in(parent).request.path == "/"
    tokens = flow.tokens_for(rp, parent)
    intruder = _browser(app, "198.51.100.91")
    intruder.sign_in(parent)
    link = _link(_notices(app, "notice.intrus@example.org")[-1])

    page = Browser(app.test_client()).get(link)  # opening it (a mail scanner) spends nothing
    assert page.status_code == 200 and "Ce n'était pas moi" in page.text
    reporter = Browser(app.test_client())
    reporter.get(link)
    page = reporter.submit_page()
    assert page.request.path.startswith("/recuperation/mot-de-passe/lien/")
    assert 'name="password"' in page.text
    assert family.get("/").request.path != "/" and intruder.get("/").request.path != "/"
    with app.app_context():
        assert all(t.revoked for t in db.session.scalars(select(RefreshToken)))
    # The intruder's device cookie no longer counts (nor the family's: a fresh start).
    for i in range(app.config["LOCKOUT_ACCOUNT_THRESHOLD"]):
        _browser(app, f"203.0.113.{100 + i}").sign_in(parent.identifier, "Wrong-Pass-2026")
    assert intruder.sign_in(parent).status_code == 429
    # Used once; a forged token gets the same page.
    for bad in (link, "/connexion/ce-netait-pas-moi/forged", "/connexion/ce-netait-pas-moi/" +
                "x" * 200):
        again = Browser(app.test_client()).get(bad)
        assert again.status_code == 400 and "Lien inutilisable" in again.text


def test_a_pupils_notice_and_its_page_say_tu(app, make):
    pupil = make.account(pupil=True, email="notice.eleve@example.org")
    assert _browser(app, "192.0.2.92").sign_in(pupil).request.path == "/"
    [notice] = _notices(app, "notice.eleve@example.org")
    assert notice.subject.startswith("Nouvelle connexion à ton compte")
    assert "C'était toi ? Tu n'as rien à faire." in notice.text
    page = Browser(app.test_client()).get(_link(notice))
    text = page.text.replace("&#39;", "'")
    assert page.status_code == 200
    assert "Quelqu'un connaît peut-être ton mot de passe" in text and "votre" not in text
