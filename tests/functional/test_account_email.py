""""Mon compte", email change (J6, seed 004 "Saisir mon adresse mail après coup"): the
password again when the last one is not recent; a link to the new address (real SMTP)
confirms it and only then does it change; the old address is told, with a link to report
the change. Bad input: the same address, an address another account holds, two
different addresses: a French message, nothing changed, nothing told about others."""
from __future__ import annotations

import time
from html import unescape

from idp.journeys.account import reauth

from ..support.accounts import account_row, audit_actions, deliver, link_in, mails_to

OLD, NEW = "camille.martin@example.org", "camille.nouvelle@example.org"


class _Later:
    """reauth's clock moved forward: the sign-in is no longer recent."""

    def __init__(self, seconds):
        self.offset = seconds

    def time(self):
        return time.time() + self.offset


def ask_change(browser, new: str, confirm: str | None = None):
    browser.get("/compte/email")
    return browser.submit_page({"email": new, "email_confirm": confirm or new})


def test_a_stale_sign_in_asks_the_password_again(browser, make, monkeypatch):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    assert browser.get("/compte/email").request.path == "/compte/email"  # just signed in
    monkeypatch.setattr(reauth, "time", _Later(600))
    page = browser.get("/compte/email")
    assert page.request.path == "/compte/confirmer-mot-de-passe"
    assert "Confirmez votre mot de passe" in page.text
    wrong = browser.submit_page({"password": "Pas-le-bon-1!"})
    assert wrong.status_code == 400 and "Mot de passe incorrect." in unescape(wrong.text)
    page = browser.submit_page({"password": account.password})
    assert page.request.path == "/compte/email" and "Nouvelle adresse email" in page.text
    # Each sensitive page asks; the window holds for a few minutes only.
    assert browser.get("/compte/telephone").request.path == "/compte/telephone"
    monkeypatch.setattr(reauth, "time", _Later(1200))
    assert browser.get("/compte/telephone").request.path == "/compte/confirmer-mot-de-passe"


def test_the_page_to_come_back_to_is_never_an_outside_address(browser, make, monkeypatch):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    monkeypatch.setattr(reauth, "time", _Later(600))
    browser.get("/compte/confirmer-mot-de-passe?suite=https://evil.example/")
    page = browser.submit_page({"password": account.password}, follow=False)
    assert page.status_code == 302 and page.location.endswith("/compte")


def test_email_changes_only_through_the_link_and_the_old_address_is_told(app, browser, make,
                                                                         use_smtp):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    page = ask_change(browser, NEW)
    assert page.status_code == 200
    assert f"Un courriel vient d'être envoyé à {NEW} afin de confirmer cette mise à jour." \
        in unescape(page.text)
    assert account_row(app, account.id).email == OLD
    deliver(app)
    [mail] = mails_to(use_smtp, NEW)
    path = link_in(use_smtp, mail, "/preferences/email/")
    confirm = browser.get(path)
    assert account_row(app, account.id).email == OLD  # opening the link changes nothing
    done = browser.submit_page()
    assert "Votre adresse email est confirmée" in done.text
    row = account_row(app, account.id)
    assert (row.email, row.email_verified) == (NEW, True)
    # The old address hears of it, the new one only masked.
    deliver(app)
    [notice] = mails_to(use_smtp, OLD)
    text = use_smtp.text_of(notice)
    assert "a été remplacée par c•••@example.org" in text and NEW not in text
    assert link_in(use_smtp, notice, "/compte/signalement/")
    # The same confirmation link again: nothing more happens.
    browser.page = confirm
    assert browser.submit_page().status_code == 400


def test_reporting_the_change_puts_the_old_address_back_and_ends_everything(app, browser, make,
                                                                            use_smtp):
    account = make.account()
    browser.sign_in(account.identifier, account.password)  # the intruder's session
    ask_change(browser, NEW)
    deliver(app)
    browser.get(link_in(use_smtp, mails_to(use_smtp, NEW)[0], "/preferences/email/"))
    browser.submit_page()
    deliver(app)
    report = link_in(use_smtp, mails_to(use_smtp, OLD)[0], "/compte/signalement/")

    owner = type(browser)(app.test_client())  # opened from the old mailbox, signed out
    page = owner.get(report)
    assert page.status_code == 200 and "Ce n'était pas moi" in unescape(page.text)
    assert account_row(app, account.id).email == NEW  # a GET changes nothing
    done = owner.submit_page()
    assert "Merci, c'est fait" in unescape(done.text)
    row = account_row(app, account.id)
    assert (row.email, row.email_verified) == (OLD, True)
    assert browser.get("/").request.path != "/"  # the intruder is signed out
    deliver(app)
    reset_mail = mails_to(use_smtp, OLD)[-1]
    assert "Choisir un nouveau mot de passe" in reset_mail["Subject"]
    assert owner.get(link_in(use_smtp, reset_mail, "/recuperation/mot-de-passe/lien/")) \
        .status_code == 200
    assert "email_change_reported" in audit_actions(app)
    again = type(browser)(app.test_client())
    again.get(report)
    assert again.submit_page().status_code == 400  # used once


def test_the_same_address_is_refused_beside_the_field(app, browser, make, use_smtp):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    page = ask_change(browser, OLD.upper())
    assert page.status_code == 400 and 'id="email-error"' in page.text
    assert "C'est déjà l'adresse confirmée de votre compte" in unescape(page.text)
    assert 'value="CAMILLE.MARTIN@example.org"' in page.text  # kept (domain normalised)
    deliver(app)
    assert use_smtp.messages == []


def test_a_family_address_may_serve_several_accounts(app, browser, make, use_smtp):
    """Issue 21, point 7: one rule everywhere: families share an address. The page is the
    same as for any address, nothing changes before the link, and once confirmed both
    accounts have it and "Identifiant oublié ?" lists both to that address."""
    account = make.account()
    other = make.account(first_name="Dominique", email="dominique@example.org")
    browser.sign_in(account.identifier, account.password)
    page = browser.get("/compte/email")
    assert "Une même adresse peut servir à plusieurs comptes de la famille" \
        in unescape(page.text)
    shared = ask_change(browser, "dominique@example.org")
    free = ask_change(browser, "libre@example.org")
    assert shared.status_code == free.status_code == 200
    assert shared.text.replace("dominique@example.org", "X") \
        == free.text.replace("libre@example.org", "X")
    assert account_row(app, account.id).email == OLD
    shared = ask_change(browser, "dominique@example.org")
    deliver(app)
    link = link_in(use_smtp, mails_to(use_smtp, "dominique@example.org")[-1],
                   "/preferences/email/")
    browser.get(link)
    browser.submit_page()
    row = account_row(app, account.id)
    assert row.email == "dominique@example.org" and row.email_verified
    assert account_row(app, other.id).email == "dominique@example.org"
    stranger = type(browser)(app.test_client())
    stranger.get("/recuperation/identifiant")
    stranger.submit("/recuperation/identifiant/email", {"email": "dominique@example.org"})
    deliver(app)
    listed = use_smtp.text_of(mails_to(use_smtp, "dominique@example.org")[-1])
    assert account.identifier in listed and other.identifier in listed


def test_two_different_addresses_or_a_bad_one_are_told(app, browser, make, use_smtp):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    page = ask_change(browser, NEW, "autre@example.org")
    assert page.status_code == 400 and "Les deux adresses ne sont pas identiques." in page.text
    page = ask_change(browser, "pas-une-adresse")
    assert page.status_code == 400 and "Saisissez une adresse de messagerie valide" in page.text
    deliver(app)
    assert use_smtp.messages == [] and account_row(app, account.id).email == OLD


def test_a_pupil_without_email_adds_one(app, browser, make, use_smtp):
    pupil = make.account(profile="pupil", first_name="Léa", email=None)
    browser.sign_in(pupil.identifier, pupil.password)
    page = browser.get("/compte")
    assert "tu ne pourras pas récupérer ton mot de passe de manière autonome" in unescape(page.text)
    ask_change(browser, "lea@example.org")
    deliver(app)
    browser.get(link_in(use_smtp, use_smtp.messages[0], "/preferences/email/"))
    browser.submit_page()
    row = account_row(app, pupil.id)
    assert (row.email, row.email_verified) == ("lea@example.org", True)
    deliver(app)
    assert len(use_smtp.messages) == 1  # no "old address" to tell


def test_confirmation_messages_are_capped(app, browser, make, use_smtp):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    pages = [ask_change(browser, f"essai{i}@example.org") for i in range(4)]
    assert [p.status_code for p in pages] == [200, 200, 200, 400]
    assert "réessayez dans une heure" in pages[-1].text
    deliver(app)
    assert len(use_smtp.messages) == 3
