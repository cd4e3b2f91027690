"""Emails and SMS say "tu" to a pupil and "vous" to a parent when the message is written
to the account's owner (the context's `tu`, from the account's profile; notify.outbox says
"vous" when a caller says nothing): the password-reset link, the identifier reminder (by
email and by SMS), the security code and the security notice (by email and by SMS), the
activation email and its reminder (lifecycle), the email-change confirmation and the
new-device notice."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from idp.db import db
from idp.lifecycle import run_lifecycle
from idp.models import utcnow

from ..support.accounts import deliver, mails_to, update_account

MOBILE, MOBILE_TYPED = "+33612345678", "06 12 34 56 78"
ADDRESS = "lea.martin@example.org"
NEW_PASSWORD = "Trousse-Verte-2027"

BOTH = pytest.mark.parametrize("pupil", [True, False], ids=["pupil", "parent"])


def _account(make, pupil: bool, **fields):
    return make.account(profile="pupil" if pupil else "parent", first_name="Léa",
                        email=ADDRESS, **fields)


def _says(text: str, tu: str, vous: str, pupil: bool):
    said, not_said = (tu, vous) if pupil else (vous, tu)
    assert said in text, text
    assert not_said not in text, text


def _no_vous_to_a_pupil(text: str, pupil: bool):
    """A message to a pupil says "vous" nowhere (not only in the sentences checked)."""
    if pupil:
        words = re.findall(r"\w+", text.lower())
        assert not {"vous", "votre", "vos"} & set(words), text


def _subject(mail) -> str:
    """The Subject header as sent (a long one comes back folded: its spaces doubled)."""
    return " ".join(str(mail["Subject"]).split())


def _the_one_mail(app, use_smtp, to: str, subject_tu: str, subject_vous: str, pupil: bool):
    """The one message sent to `to`: its subject says tu/vous as asked, and neither it
    nor the text says "vous" to a pupil. Returns (mail, text)."""
    deliver(app)
    [mail] = mails_to(use_smtp, to)
    _says(_subject(mail), subject_tu, subject_vous, pupil)
    text = use_smtp.text_of(mail)
    _no_vous_to_a_pupil(_subject(mail) + "\n" + text, pupil)
    return mail, text


def _ask_reset(browser, identifier: str, channel: str):
    browser.get("/recuperation/mot-de-passe")
    browser.submit("/recuperation/mot-de-passe", {"identifier": identifier})
    return browser.submit_page({"channel": channel})


@BOTH
def test_the_password_reset_email_and_its_security_notice(app, browser, make, use_smtp,
                                                          pupil):
    account = _account(make, pupil)
    _ask_reset(browser, account.identifier, "email")
    deliver(app)
    [mail] = mails_to(use_smtp, ADDRESS)
    text = use_smtp.text_of(mail)
    _says(text, "Tu as demandé à changer le mot de passe",
          "Vous avez demandé à changer le mot de passe", pupil)
    _says(text, "Si tu n'es pas à l'origine de cette demande, ignore ce message",
          "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message", pupil)
    _says(text, "ouvre ce lien", "ouvrez ce lien", pupil)
    html = mail.get_body(("html",)).get_content()
    _says(html, "Tu as demandé à changer", "Vous avez demandé à changer", pupil)

    [path] = [link.split("//", 1)[-1].partition("/")[2] for link in use_smtp.links(mail)
              if "/recuperation/mot-de-passe/lien/" in link]
    browser.get("/" + path)
    done = browser.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 200
    deliver(app)
    notice = mails_to(use_smtp, ADDRESS)[-1]
    _says(str(notice["Subject"]), "Modification de ton compte", "Modification de votre compte",
          pupil)
    text = use_smtp.text_of(notice)
    _says(text, f"Le mot de passe de ton compte {account.identifier} a été renouvelé",
          f"Le mot de passe de votre compte {account.identifier} a été renouvelé", pupil)
    _says(text, "C'était toi ? Tu n'as rien à faire.", "C'était vous ? Vous n'avez rien à faire.",
          pupil)
    _says(text, "Choisis-en un nouveau", "Choisissez-en un nouveau", pupil)


@BOTH
def test_the_identifier_reminder_email(app, browser, make, use_smtp, pupil):
    account = _account(make, pupil)
    browser.get("/recuperation/identifiant")
    browser.submit("/recuperation/identifiant/email", {"email": ADDRESS})
    deliver(app)
    [mail] = mails_to(use_smtp, ADDRESS)
    _says(str(mail["Subject"]), "Ton identifiant", "Votre identifiant", pupil)
    text = use_smtp.text_of(mail)
    assert account.identifier in text
    _says(text, "Tu as demandé ton identifiant", "Vous avez demandé votre identifiant", pupil)
    _says(text, "Pour te connecter :", "Pour vous connecter :", pupil)
    _says(text, "rien n'a changé sur ton compte", "rien n'a changé sur votre compte", pupil)


def test_the_identifier_reminder_says_vous_when_the_address_is_also_a_parents(
        app, browser, make, use_smtp):
    make.account(email=ADDRESS)
    make.account(profile="pupil", first_name="Léa", email=ADDRESS)
    browser.get("/recuperation/identifiant")
    browser.submit("/recuperation/identifiant/email", {"email": ADDRESS})
    deliver(app)
    [mail] = mails_to(use_smtp, ADDRESS)
    assert "Vous avez demandé votre identifiant" in use_smtp.text_of(mail)


@BOTH
def test_the_identifier_reminder_sms(app, browser, make, use_sms_gateway, pupil):
    account = _account(make, pupil)
    update_account(app, account.id, phone=MOBILE)
    browser.get("/recuperation/identifiant")
    browser.submit("/recuperation/identifiant/sms", {"phone": MOBILE_TYPED})
    deliver(app)
    [sms] = use_sms_gateway.to(MOBILE)
    # The reminder names no one: neither "tu" nor "vous" (the same text for both).
    assert account.identifier in sms["text"]
    for word in ("vous", "votre", "ton ", "tu "):
        assert word not in sms["text"].lower(), sms["text"]


@BOTH
def test_the_security_code_and_the_security_notice_by_sms(app, browser, make,
                                                          use_sms_gateway, pupil):
    account = _account(make, pupil)
    update_account(app, account.id, phone=MOBILE, email=None, email_verified=False)
    _ask_reset(browser, account.identifier, "sms")
    deliver(app)
    [sms] = use_sms_gateway.to(MOBILE)
    _says(sms["text"], "est ton code de sécurité", "est votre code de sécurité", pupil)
    _says(sms["text"], "pour changer ton mot de passe", "pour changer votre mot de passe",
          pupil)
    _says(sms["text"], "Ne le communique à personne", "Ne le communiquez à personne", pupil)
    code = use_sms_gateway.last_code(MOBILE)
    browser.submit_page({"code": code})
    done = browser.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 200
    deliver(app)
    notice = use_sms_gateway.to(MOBILE)[-1]["text"]
    _says(notice, f"Le mot de passe de ton compte {account.identifier} a été renouvelé",
          f"Le mot de passe de votre compte {account.identifier} a été renouvelé", pupil)
    _says(notice, "Pas toi ? Change de mot de passe", "Pas vous ? Changez de mot de passe",
          pupil)


@BOTH
def test_the_activation_email(app, browser, make, use_smtp, pupil):
    account = _account(make, pupil, pending_email=True)
    page = browser.sign_in(account)
    assert page.request.path == "/premiere-connexion", page.text[:300]
    browser.submit("/premiere-connexion/renvoyer", {})
    mail, text = _the_one_mail(app, use_smtp, ADDRESS, "Activation de ton compte",
                               "Activation de votre compte", pupil)
    assert account.identifier in text
    _says(text, "Tu souhaites accéder aux services en ligne",
          "Vous souhaitez accéder aux services en ligne", pupil)
    _says(text, "clique sur le lien ci-dessous", "cliquez sur le lien ci-dessous", pupil)
    _says(text, "Si tu n'es pas à l'origine de cette demande, ignore ce message",
          "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message", pupil)
    html = mail.get_body(("html",)).get_content()
    _no_vous_to_a_pupil(html, pupil)
    _says(html, "copie cette adresse dans ton navigateur",
          "copiez cette adresse dans votre navigateur", pupil)


@BOTH
@pytest.mark.parametrize("state", ["pending_email", "provisional"])
def test_the_activation_reminder(app, make, use_smtp, pupil, state):
    account = _account(make, pupil, state=state)
    update_account(app, account.id, activation_deadline=utcnow() + timedelta(days=2))
    with app.app_context():
        assert run_lifecycle()["reminded"] == 1
        db.session.commit()
    mail, text = _the_one_mail(app, use_smtp, ADDRESS, "Ton compte n'est pas encore activé",
                               "Votre compte n'est pas encore activé", pupil)
    _says(text, f"Ton compte {account.identifier} n'est pas encore activé",
          f"Votre compte {account.identifier} n'est pas encore activé", pupil)
    if state == "pending_email":
        _says(text, "clique sur le lien du message « Activation de ton compte »",
              "cliquez sur le lien du message « Activation de votre compte »", pupil)
    else:
        _says(text, "Connecte-toi à l'adresse ci-dessous avec ton identifiant",
              "Connectez-vous à l'adresse ci-dessous avec votre identifiant", pupil)
    _says(text, "adresse-toi au secrétariat", "adressez-vous au secrétariat", pupil)
    html = mail.get_body(("html",)).get_content()
    _no_vous_to_a_pupil(html, pupil)


@BOTH
def test_the_email_change_confirmation(app, browser, make, use_smtp, pupil):
    new = "lea.nouvelle@example.org"
    account = _account(make, pupil)
    browser.sign_in(account)
    browser.get("/compte/email")
    page = browser.submit_page({"email": new, "email_confirm": new})
    assert page.status_code == 200
    mail, text = _the_one_mail(app, use_smtp, new, "Confirme ton adresse email",
                               "Confirmez votre adresse email", pupil)
    _says(text, "Tu as demandé à utiliser cette adresse email pour ton compte",
          "Vous avez demandé à utiliser cette adresse email pour votre compte", pupil)
    _says(text, "Pour la confirmer, ouvre ce lien", "Pour la confirmer, ouvrez ce lien", pupil)
    _says(text, "ignore ce message : ton compte ne change pas",
          "ignorez ce message : votre compte ne change pas", pupil)


@BOTH
def test_the_new_device_notice_by_email(app, browser, make, use_smtp, monkeypatch, pupil):
    monkeypatch.setitem(app.config, "NEW_DEVICE_NOTICE", True)
    account = _account(make, pupil)
    assert browser.sign_in(account).request.path == "/"
    mail, text = _the_one_mail(app, use_smtp, ADDRESS, "Nouvelle connexion à ton compte",
                               "Nouvelle connexion à votre compte", pupil)
    _says(text, f"Ton compte {account.identifier} vient d'être utilisé",
          f"Votre compte {account.identifier} vient d'être utilisé", pupil)
    _says(text, "C'était toi ? Tu n'as rien à faire.", "C'était vous ? Vous n'avez rien à faire.",
          pupil)
    _says(text, "Ce n'était pas toi ? Clique sur ce lien",
          "Ce n'était pas vous ? Suivez ce lien", pupil)


@BOTH
def test_the_new_device_notice_by_sms(app, browser, make, use_sms_gateway, monkeypatch,
                                      pupil):
    monkeypatch.setitem(app.config, "NEW_DEVICE_NOTICE", True)
    account = _account(make, pupil)
    update_account(app, account.id, phone=MOBILE, email=None, email_verified=False)
    assert browser.sign_in(account).request.path == "/"
    deliver(app)
    [sms] = use_sms_gateway.to(MOBILE)
    _no_vous_to_a_pupil(sms["text"], pupil)
    _says(sms["text"], f"connexion à ton compte {account.identifier}",
          f"connexion à votre compte {account.identifier}", pupil)
    _says(sms["text"], "Ce n'était pas toi ?", "Ce n'était pas vous ?", pupil)
