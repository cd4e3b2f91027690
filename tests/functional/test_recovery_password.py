""""Mot de passe oublié ?" by email (J6, seeds 002 and 004): the identifier, then the
channel; the link, delivered by a real SMTP server, works once and for an hour; the new
password follows the policy; every session and refresh token of the account ends, a
notice is sent and the lockout counters clear. Unknown identifiers, accounts without a
usable channel and known ones get the same pages."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from idp.db import db
from idp.extensions import throttle
from idp.models import OneTimeToken, RefreshToken

from ..support.accounts import account_row, audit_actions, deliver, link_in, mails_to, update_account

NEW_PASSWORD = "Trousse-Verte-2027"


def ask_reset(browser, identifier: str, channel: str = "email"):
    browser.get("/recuperation/mot-de-passe")
    page = browser.submit("/recuperation/mot-de-passe", {"identifier": identifier})
    assert page.request.path == "/recuperation/mot-de-passe/moyen", page.text[:300]
    return browser.submit_page({"channel": channel})


def reset_link(app, smtp, address: str) -> str:
    deliver(app)
    [mail] = mails_to(smtp, address)
    assert "Choisir un nouveau mot de passe" in mail["Subject"]
    return link_in(smtp, mail, "/recuperation/mot-de-passe/lien/")


def test_the_sign_in_page_links_to_both_recovery_pages(browser):
    page = browser.get("/connexion")
    assert 'href="/recuperation/identifiant"' in page.text
    assert 'href="/recuperation/mot-de-passe"' in page.text
    assert browser.get("/recuperation/mot-de-passe").status_code == 200
    assert browser.get("/recuperation/identifiant").status_code == 200


def test_reset_by_email_ends_sessions_tokens_and_lockout(app, browser, make, flow, rp, use_smtp):
    account = make.account()
    # A session elsewhere and a refresh token held by an RP.
    other = type(browser)(app.test_client())
    other.sign_in(account.identifier, account.password)
    assert other.get("/").request.path == "/"
    tokens = flow.tokens_for(rp, account)
    # A stranger has been trying passwords.
    with app.test_request_context():
        for _ in range(25):
            throttle().record_failure("203.0.113.9", account.identifier)
        assert throttle().failures(account.identifier) >= 20

    fresh = type(browser)(app.test_client())
    page = ask_reset(fresh, account.identifier.upper())  # typed in capitals
    assert page.status_code == 200
    assert "Consultez votre messagerie" in page.text
    assert "valable 60 minutes" in page.text
    path = reset_link(app, use_smtp, "camille.martin@example.org")

    page = fresh.get(path)
    assert page.status_code == 200 and "Choisissez un nouveau mot de passe" in page.text
    assert account.identifier in page.text
    done = fresh.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 200 and "Votre mot de passe a été changé" in done.text

    # The old sessions are over, the RP's refresh token too.
    assert other.get("/").request.path != "/"
    refreshed = app.test_client().post("/oidc/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(rp.client_id, rp.client_secret))
    assert refreshed.status_code == 400 and refreshed.json["error"] == "invalid_grant"
    with app.app_context():
        assert all(t.revoked for t in db.session.query(RefreshToken).all())
    with app.test_request_context():
        assert throttle().failures(account.identifier) == 0
    # The old password no longer opens the door; the new one does.
    assert browser.sign_in(account.identifier, account.password).request.path == "/connexion"
    assert browser.sign_in(account.identifier, NEW_PASSWORD).request.path == "/"
    # A notice went to the account's address.
    deliver(app)
    notice = mails_to(use_smtp, "camille.martin@example.org")[-1]
    assert "Modification de votre compte" in notice["Subject"]
    assert "a été renouvelé" in use_smtp.text_of(notice)
    assert "password_reset" in audit_actions(app)


def test_the_link_works_once(app, browser, make, use_smtp):
    account = make.account()
    ask_reset(browser, account.identifier)
    path = reset_link(app, use_smtp, "camille.martin@example.org")
    browser.get(path)
    browser.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    again = browser.get(path)
    assert again.status_code == 400 and "Ce lien a déjà servi" in again.text
    assert "Demander un nouveau lien" in again.text


def test_opening_the_link_spends_nothing_and_a_newer_link_replaces_it(app, browser, make,
                                                                    use_smtp):
    account = make.account()
    ask_reset(browser, account.identifier)
    first = reset_link(app, use_smtp, "camille.martin@example.org")
    assert browser.get(first).status_code == 200  # a mail scanner fetching the link
    assert browser.get(first).status_code == 200
    ask_reset(browser, account.identifier)
    deliver(app)
    second = link_in(use_smtp, use_smtp.messages[-1], "/recuperation/mot-de-passe/lien/")
    assert second != first
    old = browser.get(first)
    assert old.status_code == 400 and "Ce lien a déjà servi" in old.text
    assert browser.get(second).status_code == 200


def test_an_expired_link_says_so_and_changes_nothing(app, browser, make, use_smtp):
    account = make.account()
    before = account_row(app, account.id).password_hash
    ask_reset(browser, account.identifier)
    path = reset_link(app, use_smtp, "camille.martin@example.org")
    browser.get(path)  # the form was opened in time...
    with app.app_context():  # ...but sent after the hour
        db.session.query(OneTimeToken).update(
            {"expires_at": datetime.now(timezone.utc) - timedelta(minutes=1)})
        db.session.commit()
    page = browser.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert page.status_code == 410 and "Ce lien a expiré" in page.text
    assert "demandez un nouveau lien" in page.text
    assert account_row(app, account.id).password_hash == before


def test_a_made_up_link_is_refused(browser):
    page = browser.get("/recuperation/mot-de-passe/lien/not-a-real-token")
    assert page.status_code == 400 and "Ce lien n'est pas valide" in page.text


def test_a_weak_or_mismatched_password_is_told_beside_the_field(app, browser, make, use_smtp):
    account = make.account()
    before = account_row(app, account.id).password_hash
    ask_reset(browser, account.identifier)
    path = reset_link(app, use_smtp, "camille.martin@example.org")
    browser.get(path)
    page = browser.submit_page({"password": "court", "password_confirm": "court"})
    assert page.status_code == 400
    assert "8 caractères minimum." in page.text and 'id="password-error"' in page.text
    assert 'value="court"' not in page.text  # passwords are never echoed
    page = browser.submit_page({"password": f"Martin-{account.identifier}-1!",
                                "password_confirm": f"Martin-{account.identifier}-1!"})
    assert "ni votre identifiant" in page.text
    page = browser.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"})
    assert "Les deux mots de passe ne sont pas identiques." in page.text
    assert account_row(app, account.id).password_hash == before
    # The link still works after these mistakes.
    done = browser.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert "Votre mot de passe a été changé" in done.text


def test_the_reset_page_does_not_tell_whether_a_password_is_the_current_one(
        app, browser, make, use_smtp):
    """Unlike "Mon compte", the reset page does not refuse the current password: that
    answer would let whoever holds the link test guesses of it, unthrottled and unnoticed.
    The family simply sets it again."""
    account = make.account()
    ask_reset(browser, account.identifier)
    path = reset_link(app, use_smtp, "camille.martin@example.org")
    browser.get(path)
    done = browser.submit_page({"password": account.password,
                                "password_confirm": account.password})
    assert "différent du mot de passe actuel" not in done.text
    assert "Votre mot de passe a été changé" in done.text


def test_same_answer_for_unknown_identifier_and_for_a_pupil_without_email(app, browser, make,
                                                                         use_smtp):
    known = make.account()
    pupil = make.account(profile="pupil", first_name="Léa", email=None)
    unverified = make.account(first_name="Noé", email="noe@example.org")
    update_account(app, unverified.id, email_verified=False)
    pages = {}
    for name, identifier in (("known", known.identifier), ("unknown", "x.personne99"),
                             ("pupil", pupil.identifier), ("unverified", unverified.identifier)):
        page = ask_reset(type(browser)(app.test_client()), identifier)
        assert page.status_code == 200
        pages[name] = page.text.replace(identifier, "IDENT")
    assert pages["known"] == pages["unknown"] == pages["pupil"] == pages["unverified"]
    # What the page tells a pupil without email (seed 004).
    assert "demandez à votre établissement le renouvellement de votre mot de passe" \
        in pages["pupil"]
    assert "Sans adresse email, vous ne pouvez pas récupérer votre mot de passe de manière " \
           "autonome" in pages["pupil"]
    deliver(app)
    assert [m["To"] for m in use_smtp.messages] == ["camille.martin@example.org"]


def test_no_reset_for_a_deactivated_or_waiting_account(app, browser, make, use_smtp):
    for state in ("deactivated", "pending_email", "provisional"):
        account = make.account(state=state, first_name=state.capitalize())
        page = ask_reset(type(browser)(app.test_client()), account.identifier)
        assert "Consultez votre messagerie" in page.text
    deliver(app)
    assert use_smtp.messages == []


def test_sends_are_capped_per_account_and_the_page_does_not_change(app, browser, make, use_smtp):
    account = make.account()
    texts = set()
    for _ in range(5):
        texts.add(ask_reset(type(browser)(app.test_client()), account.identifier).text)
    assert len(texts) == 1
    deliver(app)
    assert len(use_smtp.messages) == 3  # RECOVERY_SENDS_PER_HOUR


def test_the_channel_page_needs_the_identifier_first_and_a_choice(browser):
    page = browser.get("/recuperation/mot-de-passe/moyen")
    assert page.request.path == "/recuperation/mot-de-passe"
    page = browser.submit("/recuperation/mot-de-passe", {"identifier": ""})
    assert page.status_code == 400 and "Saisissez votre identifiant." in page.text
    browser.submit("/recuperation/mot-de-passe", {"identifier": "p.dupont1"})
    page = browser.submit_page({})
    assert page.status_code == 400
    assert "Choisissez comment recevoir le lien ou le code." in page.text
