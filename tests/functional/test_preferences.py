"""J5 "Contact et préférences" (seed 003): the school record read-only, the email changed
only through a confirmation link (delivered by a real SMTP server), the opt-ins; asked
once, and again as a reminder while a parent has no verified email: at a sign-in, not
while a confirmation link sent can still be opened, with "Continuer" that sends nothing."""
from __future__ import annotations

import email
import re
import time
from datetime import timedelta
from email import policy
from html import unescape

import pytest
from aiosmtpd.controller import Controller

from sqlalchemy import select

from idp.db import db
from idp.journeys.preferences.email_change import LINK_LIFETIME
from idp.models import Account, ContactPreferences, OneTimeToken

from ..support.accounts import update_account
from ..support.gating import at_rp, authorize
from ..support.served import free_port

LINK = re.compile(r"http://localhost/preferences/email/[A-Za-z0-9_-]+")


class _Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server (aiosmtpd) the outbox worker delivers to."""
    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "EMAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", controller.port)
    yield mailbox
    controller.stop()


def deliver(app) -> None:
    from idp.notify.delivery import deliver_due

    with app.app_context():
        report = deliver_due()
        assert report.failed == 0 and not report.errors, report.errors


def account_row(app, account_id: int) -> Account:
    with app.app_context():
        row = db.session.get(Account, account_id)
        db.session.expunge(row)
        return row


def test_asked_once_with_the_record_read_only(browser, make, rp, gating):
    account = make.account(preferences_done=False, with_pupils=1)
    page = browser.sign_in(account, start=authorize(browser, rp))
    assert page.request.path == "/preferences"
    for text in ("Vérifiez vos informations", "D'où viennent ces informations ?",
                 "proviennent de la base de données de l'établissement",
                 "Renseignez ou mettez à jour votre adresse email", "Pourquoi votre adresse email ?",
                 "Je souhaite recevoir des notifications pour les messages :", "de la région",
                 "du département", "de l'académie", "Enregistrer mes informations"):
        assert text in page.text, text
    assert 'value="camille.martin@example.org"' in page.text  # prefilled
    assert "Enfant0 Martin" in page.text and "Collège Jean Moulin (0540042A)" in page.text
    assert 'name="last_name"' not in page.text and 'name="first_name"' not in page.text

    response = browser.submit_page({"email": "camille.martin@example.org",
                                    "notify_region": "y", "notify_academy": "y"})
    assert "code" in at_rp(response, rp)
    [prefs] = gating.rows(ContactPreferences, account_id=account.id)
    assert (prefs.notify_region, prefs.notify_department, prefs.notify_academy) == (True, False, True)
    browser.logout()
    assert at_rp(browser.sign_in(account, start=authorize(browser, rp)), rp)  # not asked again


def test_a_new_email_changes_only_through_the_link(app, browser, make, rp, smtp):
    account = make.account(preferences_done=False)
    browser.sign_in(account, start=authorize(browser, rp))
    page = browser.submit_page({"email": "camille.nouvelle@example.org"})
    assert "Nous avons envoyé un lien de confirmation à camille.nouvelle@example.org" in page.text
    assert f"Continuer vers {rp.name}" in page.text
    # The sign-in goes on; the change waits for the link.
    assert at_rp(browser.client.get("/continue"), rp)
    assert account_row(app, account.id).email == "camille.martin@example.org"
    deliver(app)
    [mail] = smtp.messages
    assert mail["To"] == "camille.nouvelle@example.org"
    assert "Confirmez votre adresse email" in mail["Subject"]
    link = LINK.search(mail.get_body(("plain",)).get_content()).group(0)

    page = browser.get(link.replace("http://localhost", ""))  # confirm page, nothing used yet
    assert page.status_code == 200 and "Confirmer mon adresse email" in page.text
    assert account_row(app, account.id).email == "camille.martin@example.org"
    done = browser.submit_page()
    assert "Votre adresse email est confirmée" in done.text
    row = account_row(app, account.id)
    assert row.email == "camille.nouvelle@example.org" and row.email_verified

    browser.page = page  # the link again: used once, a clear page
    again = browser.submit_page()
    assert again.status_code == 400 and "Ce lien n'est plus valable" in again.text, again.text


def test_an_expired_link_says_so_and_changes_nothing(app, browser, make, rp, smtp):
    account = make.account(preferences_done=False)
    browser.sign_in(account, start=authorize(browser, rp))
    browser.submit_page({"email": "autre@example.org"})
    deliver(app)
    link = LINK.search(smtp.messages[0].get_body(("plain",)).get_content()).group(0)
    from datetime import datetime, timedelta, timezone

    from idp.models import OneTimeToken

    with app.app_context():
        db.session.query(OneTimeToken).update(
            {"expires_at": datetime.now(timezone.utc) - timedelta(minutes=1)})
        db.session.commit()
    browser.get(link.replace("http://localhost", ""))
    page = browser.submit_page()
    assert page.status_code == 400 and "Ce lien a expiré" in page.text
    assert account_row(app, account.id).email == "camille.martin@example.org"


def test_a_bad_email_is_told_beside_the_field_and_kept(browser, make, rp, gating):
    account = make.account(preferences_done=False)
    browser.sign_in(account, start=authorize(browser, rp))
    page = browser.submit_page({"email": "camille.martin@", "notify_region": "y"})
    assert page.status_code == 400 and page.request.path == "/preferences"
    assert "Saisissez une adresse email valide" in page.text
    assert 'id="email-error"' in page.text and 'value="camille.martin@"' in page.text
    boxes = {re.search(r'name="(\w+)"', tag).group(1): "checked" in tag
             for tag in re.findall(r'<input[^>]*type="checkbox"[^>]*>', page.text)}
    assert boxes == {"notify_region": True, "notify_department": False, "notify_academy": False}
    assert gating.rows(ContactPreferences) == []


def a_link_lifetime_later(app, account_id: int) -> None:
    """As if a confirmation link's lifetime had passed: the last answer to the step and
    the links sent are that much older (the links have expired)."""
    shift = LINK_LIFETIME + timedelta(minutes=1)
    with app.app_context():
        for prefs in db.session.scalars(select(ContactPreferences).where(
                ContactPreferences.account_id == account_id)):
            prefs.asked_at -= shift
        for token in db.session.scalars(select(OneTimeToken).where(
                OneTimeToken.account_id == account_id)):
            token.created_at -= shift
            token.expires_at -= shift
        db.session.commit()


def sent_to(smtp, address: str) -> list:
    return [m for m in smtp.messages if address in str(m["To"])]


def test_a_parent_without_verified_email_is_reminded_but_not_at_every_sign_in(
        app, browser, make, rp):
    parent = make.account(email=None)  # answered once already, but no email
    a_link_lifetime_later(app, parent.id)
    page = browser.sign_in(parent, start=authorize(browser, rp))
    assert page.request.path == "/preferences"
    assert 'value="continue"' in page.text  # a reminder: "Continuer" is offered
    assert at_rp(browser.submit_page({"email": ""}), rp)  # may go on without one
    # Same sign-in, another RP: not asked twice in a row.
    other = make.oidc_client(redirect_uris=["https://pronote.example/cb"])
    assert at_rp(browser.sign_in(parent, start=authorize(browser, other)), other)
    # The next sign-in, the same day: not asked again.
    browser.logout()
    time.sleep(0.01)
    assert at_rp(browser.sign_in(parent, start=authorize(browser, rp)), rp)
    # A link's lifetime later: reminded again.
    browser.logout()
    a_link_lifetime_later(app, parent.id)
    assert browser.sign_in(parent, start=authorize(browser, rp)).request.path == "/preferences"


def test_not_asked_again_while_the_link_sent_can_be_opened(app, browser, make, rp, smtp):
    parent = make.account()
    update_account(app, parent.id, email_verified=False)
    a_link_lifetime_later(app, parent.id)  # answered long ago
    page = browser.sign_in(parent, start=authorize(browser, rp))
    assert page.request.path == "/preferences"
    text = unescape(page.text)
    assert "L'adresse camille.martin@example.org n'est pas encore confirmée" in text
    assert "« Continuer » passe à la suite sans rien envoyer" in text
    assert 'value="continue"' in page.text and 'value="resend"' not in page.text
    page = browser.submit_page({"email": "camille.martin@example.org", "action": "save"})
    assert "Nous avons envoyé un lien de confirmation à camille.martin@example.org" in page.text
    assert at_rp(browser.client.get("/continue"), rp)
    deliver(app)
    assert len(sent_to(smtp, "camille.martin@example.org")) == 1
    # A second sign-in while the link can be opened: the step does not come back.
    browser.logout()
    time.sleep(0.01)
    assert at_rp(browser.sign_in(parent, start=authorize(browser, rp)), rp)
    # Once the link has expired, unopened: the step comes back and says so.
    browser.logout()
    a_link_lifetime_later(app, parent.id)
    page = browser.sign_in(parent, start=authorize(browser, rp))
    assert page.request.path == "/preferences"
    assert "Le lien de confirmation envoyé à camille.martin@example.org le" in unescape(page.text)
    assert "a expiré sans avoir été ouvert" in unescape(page.text)
    deliver(app)
    assert len(sent_to(smtp, "camille.martin@example.org")) == 1  # nothing more sent


def test_continuer_goes_on_and_sends_nothing(app, browser, make, rp, smtp, gating):
    parent = make.account()
    update_account(app, parent.id, email_verified=False)
    a_link_lifetime_later(app, parent.id)
    page = browser.sign_in(parent, start=authorize(browser, rp))
    assert page.request.path == "/preferences"
    assert "Continuer" in page.text
    response = browser.submit_page({"email": "camille.martin@example.org",
                                    "notify_department": "y", "action": "continue"})
    assert "code" in at_rp(response, rp)
    deliver(app)
    assert smtp.messages == []
    with app.app_context():
        assert db.session.scalar(select(OneTimeToken.id).where(
            OneTimeToken.account_id == parent.id)) is None
    [prefs] = gating.rows(ContactPreferences, account_id=parent.id)
    assert prefs.notify_department  # what was ticked is kept
    row = account_row(app, parent.id)
    assert row.email == "camille.martin@example.org" and not row.email_verified
    # Not nagged at the next sign-in.
    browser.logout()
    time.sleep(0.01)
    assert at_rp(browser.sign_in(parent, start=authorize(browser, rp)), rp)


@pytest.mark.parametrize("action, mails", [("save", 1), ("resend", 2)])
def test_a_waiting_address_is_sent_again_only_when_asked(app, browser, make, rp, smtp,
                                                         action, mails):
    parent = make.account(preferences_done=False)
    update_account(app, parent.id, email_verified=False)
    with app.test_request_context():
        from idp.journeys.preferences import email_change

        email_change.start(db.session.get(Account, parent.id), "camille.nouvelle@example.org")
        db.session.commit()
    page = browser.sign_in(parent, start=authorize(browser, rp))
    assert page.request.path == "/preferences"  # the first time: asked whatever waits
    assert "Renvoyer l'email de confirmation" in unescape(page.text)
    assert 'value="continue"' not in page.text  # J5's first answer is given, not passed
    assert 'value="camille.nouvelle@example.org"' in page.text
    page = browser.submit_page({"email": "camille.nouvelle@example.org", "action": action})
    if action == "resend":
        assert "Nous avons envoyé un lien de confirmation" in page.text
        page = browser.client.get("/continue")
    assert at_rp(page, rp)
    deliver(app)
    assert len(sent_to(smtp, "camille.nouvelle@example.org")) == mails


def test_a_pupil_without_email_is_asked_only_once(browser, make, rp):
    pupil = make.account(email=None, profile="pupil", first_name="Lou", class_name="5e A")
    assert at_rp(browser.sign_in(pupil, start=authorize(browser, rp)), rp)


def test_preferences_page_is_not_a_way_around_the_plan(browser, make):
    assert browser.get("/preferences").request.path == "/choisir-profil"
    account = make.account()  # answered already
    browser.sign_in(account.identifier, account.password)
    assert browser.get("/preferences").request.path == "/"
