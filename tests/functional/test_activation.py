"""J3 first connection: provisional password -> one form -> pending email -> the emailed
link -> "Votre compte a été validé"; the RP request resumes; bad input and stale links."""
from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from idp.db import db
from idp.models import Account, AccountState, OutboxMessage
from idp.notify.delivery import deliver_due
from idp.roster import find_school, issue_letters

from ..support.browser import Browser
from ..support.letters import NEW_PASSWORD
from ..support.oidc import query


def account(app, identifier: str) -> Account:
    with app.app_context():
        return db.session.scalar(select(Account).where(Account.identifier == identifier))


def first_connection(browser, identifier, provisional, profile="parent", **data):
    browser.choose(profile=profile)
    page = browser.sign_in(identifier, provisional, choose=False)
    assert page.request.path == "/premiere-connexion", page.text[:300]
    form = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
            "birth_date": "14/03/2012", "email": "marie@example.org"}
    form.update(data)
    return browser.submit("/premiere-connexion", {k: v for k, v in form.items() if v is not None})


def test_parent_first_connection_to_validated_account(app, browser, letters, use_smtp):
    page = first_connection(browser, "m.durand", letters["m.durand"])
    assert page.request.path == "/premiere-connexion"
    assert "Compte en attente de validation" in page.text and "Renvoyer le message" in page.text
    assert account(app, "m.durand").state == AccountState.pending_email
    # Pending: the rest of the site is out of reach.
    assert browser.get("/").request.path == "/premiere-connexion"
    with app.app_context():
        assert deliver_due().sent == 1
    mail = use_smtp.wait_for(1)[-1]
    assert mail["To"] == "marie@example.org"
    assert mail["Subject"] == "Message des services en ligne - Activation de votre compte"
    assert use_smtp.html_of(mail) and "m.durand" in use_smtp.text_of(mail)
    link = use_smtp.links(mail)[0]
    assert link.startswith("http://localhost/activation/")
    page = browser.get(link.replace("http://localhost", ""))
    assert page.status_code == 200
    assert "Votre compte a été validé" in page.text
    done = account(app, "m.durand")
    assert done.state == AccountState.active and done.email_verified
    assert done.provisional_password_hash is None
    # The chosen password works, the provisional one no longer does.
    other = Browser(app.test_client())
    assert other.sign_in("m.durand", letters["m.durand"]).status_code == 400
    page = other.sign_in("m.durand", NEW_PASSWORD, choose=False)
    assert page.status_code == 200 and page.request.path not in ("/connexion",
                                                                 "/premiere-connexion")


def test_the_rp_request_resumes_after_activation(app, browser, flow, rp, letters):
    page = flow.authorize(rp)
    browser.submit("/choisir-profil", {"profile": "parent", "academy": "nancy-metz"})
    page = browser.submit("/connexion", {"identifier": "m.durand",
                                         "password": letters["m.durand"]})
    assert page.request.path == "/premiere-connexion"
    page = browser.submit("/premiere-connexion", {
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
        "birth_date": "14/03/2012", "email": "marie@example.org"})
    assert "Compte en attente de validation" in page.text
    # Nothing is issued while the email is not confirmed.
    response = browser.get("/continue", follow=False)
    assert response.location.endswith("/premiere-connexion")
    with app.app_context():
        text = db.session.scalar(select(OutboxMessage.text))
        token_link = [w for w in text.split() if "/activation/" in w][0]
        _contact_preferences_done(account(app, "m.durand").id)
    page = browser.get(token_link.replace("http://localhost", ""))
    assert "Votre compte a été validé" in page.text
    response = browser.get("/continue")
    assert response.status_code == 302 and response.location.startswith(rp.redirect_uri)
    code = query(response.location)["code"]
    assert flow.token(rp, code).status_code == 200


def _contact_preferences_done(account_id: int) -> None:
    """J5 "Contact et préférences" (another journey) counts as done for this test."""
    try:
        from idp.models import ContactPreferences
    except ImportError:
        return
    db.session.add(ContactPreferences(account_id=account_id))
    db.session.commit()


def test_pupil_may_skip_email_after_the_warning(app, browser, letters):
    page = first_connection(browser, "l.durand", letters["l.durand"], profile="pupil",
                            email="")
    assert page.status_code == 400
    assert "tu ne pourras pas récupérer ton mot de passe de manière autonome" in page.text
    assert "coche « Je n&#39;ai pas d&#39;adresse mail »" in page.text
    page = browser.submit("/premiere-connexion", {
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
        "birth_date": "14/03/2012", "email": "", "no_email": "y"})
    assert page.request.path != "/premiere-connexion"
    # The next page says so with "tu" (found by the Chromium walk: "Votre compte est activé").
    assert "Ton compte est activé." in page.text and "Votre compte est activé" not in page.text
    pupil = account(app, "l.durand")
    assert pupil.state == AccountState.active and pupil.email is None


def test_a_refused_password_is_not_called_strong_beside_its_reason(browser, letters):
    """Found by the Chromium walk: a long password with the surname was refused ("ni votre
    nom") while the meter beside it said "Très fort"."""
    typed = "Durand-Famille-2026!"
    page = first_connection(browser, "m.durand", letters["m.durand"], password=typed,
                            password_confirm=typed)
    assert page.status_code == 400 and "ni votre nom" in html.unescape(page.text)
    assert "Trop faible" in page.text and "Très fort</strong>" not in page.text


def test_parent_must_give_an_email(browser, letters):
    page = first_connection(browser, "m.durand", letters["m.durand"], email="")
    assert page.status_code == 400
    assert "elle est indispensable pour activer votre compte" in page.text
    page = browser.submit("/premiere-connexion", {
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
        "birth_date": "14/03/2012", "email": "pas une adresse"})
    assert "Saisissez une adresse de messagerie valide" in page.text


def test_password_rules_and_the_provisional_password_is_refused(browser, letters):
    provisional = letters["m.durand"]
    page = first_connection(browser, "m.durand", provisional, password=provisional,
                            password_confirm=provisional)
    assert page.status_code == 400
    assert "différent du mot de passe provisoire" in page.text
    assert 'value="marie@example.org"' in page.text  # what was typed is kept...
    assert provisional not in page.text                # ...but never a password
    page = browser.submit("/premiere-connexion", {
        "password": "court", "password_confirm": "court", "birth_date": "14/03/2012",
        "email": "marie@example.org"})
    assert "8 caractères minimum." in page.text
    page = browser.submit("/premiere-connexion", {
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x",
        "birth_date": "14/03/2012", "email": "marie@example.org"})
    assert "Les deux mots de passe ne sont pas identiques." in page.text
    page = browser.submit("/premiere-connexion", {
        "password": "Durand-14032012!", "password_confirm": "Durand-14032012!",
        "birth_date": "14/03/2012", "email": "marie@example.org"})
    assert "ni votre nom, ni une date de naissance" in page.text


def test_malformed_birth_date_is_not_counted(app, browser, letters):
    page = first_connection(browser, "m.durand", letters["m.durand"], birth_date="31/02/2012")
    assert page.status_code == 400 and "au format JJ/MM/AAAA" in page.text
    assert account(app, "m.durand").birth_date_failures == 0


def test_five_wrong_birth_dates_and_the_account_waits_for_the_school(app, browser, letters):
    page = first_connection(browser, "m.durand", letters["m.durand"], birth_date="01/01/2012")
    assert "Il reste 4 essais." in page.text
    for _ in range(3):
        page = browser.submit("/premiere-connexion", {
            "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
            "birth_date": "02/01/2012", "email": "marie@example.org"})
    assert "Il reste 1 essai." in page.text
    page = browser.submit("/premiere-connexion", {
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
        "birth_date": "03/01/2012", "email": "marie@example.org"})
    assert page.status_code == 403 and "Votre compte est bloqué" in page.text
    # Even the right date is refused now, until the school issues a new letter.
    page = browser.get("/premiere-connexion")
    assert page.status_code == 403
    with app.app_context():
        batch = issue_letters(find_school("0540042A"), account_ref="m.durand")
        db.session.commit()
        password = batch.letters[0].password
    page = first_connection(Browser(app.test_client()), "m.durand", password)
    assert "Compte en attente de validation" in page.text


def test_a_pupil_blocked_by_wrong_birth_dates_is_told_so_with_tu(browser, letters):
    page = first_connection(browser, "l.durand", letters["l.durand"], profile="pupil",
                            birth_date="01/01/2012", email="", no_email="y")
    for day in range(2, 6):
        page = browser.submit("/premiere-connexion", {
            "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
            "birth_date": f"0{day}/01/2012", "email": "", "no_email": "y"})
    assert page.status_code == 403 and "Ton compte est bloqué" in page.text
    assert "Va voir le secrétariat de ton établissement" in page.text
    assert "Votre compte" not in page.text and "Rapprochez-vous" not in page.text


def test_a_new_letter_invalidates_the_previous_password(app, browser, letters):
    with app.app_context():
        issue_letters(find_school("0540042A"), account_ref="m.durand")
        db.session.commit()
    browser.choose()
    page = browser.sign_in("m.durand", letters["m.durand"], choose=False)
    assert page.status_code == 400 and "Identifiant ou mot de passe incorrect." in page.text


def test_stale_reused_and_unknown_links_get_a_french_page(app, browser, letters):
    first_connection(browser, "m.durand", letters["m.durand"])
    page = browser.submit("/premiere-connexion/renvoyer", {})
    assert "Un nouveau message a été envoyé à marie@example.org" in page.text
    page = browser.submit("/premiere-connexion/renvoyer", {})
    assert "patientez une minute" in page.text
    with app.app_context():
        texts = db.session.scalars(select(OutboxMessage.text).order_by(OutboxMessage.id)).all()
    old, new = ([w for w in t.split() if "/activation/" in w][0].replace("http://localhost", "")
                for t in texts[:2])
    page = browser.get(old)
    assert page.status_code == 400 and "un message plus récent l'a remplacé" in page.text, page.text[-1500:]
    page = browser.get("/activation/not-a-real-token")
    assert page.status_code == 400 and "Ce lien n'est pas valide" in page.text
    assert "Votre compte a été validé" in browser.get(new).text
    page = browser.get(new)
    assert page.status_code == 200 and "Votre compte est déjà validé" in page.text


def test_an_expired_link_says_what_to_do(app, browser, letters):
    first_connection(browser, "m.durand", letters["m.durand"])
    with app.app_context():
        from idp.models import OneTimeToken

        token = db.session.scalar(select(OneTimeToken))
        token.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
        link = [w for w in db.session.scalar(select(OutboxMessage.text)).split()
                if "/activation/" in w][0]
        db.session.commit()
    page = browser.get(link.replace("http://localhost", ""))
    assert page.status_code == 410 and "Ce lien a expiré" in page.text


def test_changing_the_email_while_pending_sends_a_new_link(app, browser, letters):
    first_connection(browser, "m.durand", letters["m.durand"])
    page = browser.submit("/premiere-connexion/adresse", {"email": "oops"})
    assert page.status_code == 400 and "Saisissez une adresse de messagerie valide" in page.text
    page = browser.submit("/premiere-connexion/adresse", {"email": "marie.d@example.org"})
    assert "Un message a été envoyé à marie.d@example.org" in page.text
    with app.app_context():
        recipients = db.session.scalars(select(OutboxMessage.recipient)
                                        .order_by(OutboxMessage.id)).all()
    assert recipients == ["marie@example.org", "marie.d@example.org"]
    assert account(app, "m.durand").email == "marie.d@example.org"


def test_past_the_deadline_the_letter_shows_the_deactivated_message(app, browser, letters):
    with app.app_context():
        row = db.session.scalar(select(Account).where(Account.identifier == "m.durand"))
        row.activation_deadline = datetime.now(timezone.utc) - timedelta(days=1)
        db.session.commit()
    browser.choose()
    page = browser.sign_in("m.durand", letters["m.durand"], choose=False)
    assert page.status_code == 403
    assert "Rapprochez-vous du secrétariat de votre établissement" in page.text
    assert account(app, "m.durand").state == AccountState.deactivated
