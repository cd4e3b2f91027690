""""Mon compte", mobile change (J6): a code sent by SMS to the new number (a local SMS
gateway over HTTP) confirms it; until then nothing changes. The notice goes to the
verified email, or, without one, to the previous number."""
from __future__ import annotations

from html import unescape

from ..support.accounts import account_row, deliver, mails_to, update_account

OLD, NEW, NEW_TYPED = "+33612345678", "+33798765432", "07 98 76 54 32"


def ask_change(browser, typed: str):
    browser.get("/compte/telephone")
    return browser.submit_page({"phone": typed})


def test_the_new_number_changes_after_its_code(app, browser, make, use_sms_gateway, use_smtp):
    account = make.account()
    update_account(app, account.id, phone=OLD)
    browser.sign_in(account.identifier, account.password)
    assert "+33 6 12 34 56 78" in browser.get("/compte").text
    page = ask_change(browser, NEW_TYPED)
    assert page.request.path == "/compte/telephone/code"
    assert "+33 7 98 76 54 32" in page.text
    assert account_row(app, account.id).phone == OLD
    deliver(app)
    code = use_sms_gateway.last_code(NEW)
    assert use_sms_gateway.to(OLD) == []
    wrong = browser.submit_page({"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and "Code incorrect. Il vous reste 2 essais." in wrong.text
    assert account_row(app, account.id).phone == OLD
    done = browser.submit_page({"code": code})
    assert done.request.path == "/compte"
    assert "Votre numéro de téléphone portable est changé." in unescape(done.text)
    assert account_row(app, account.id).phone == NEW
    deliver(app)
    [notice] = mails_to(use_smtp, "camille.martin@example.org")
    assert "Le numéro de téléphone portable de votre compte" in use_smtp.text_of(notice)


def test_without_email_the_notice_goes_to_the_previous_number(app, browser, make,
                                                              use_sms_gateway):
    pupil = make.account(profile="pupil", first_name="Léa", email=None)
    update_account(app, pupil.id, phone=OLD)
    browser.sign_in(pupil.identifier, pupil.password)
    ask_change(browser, NEW_TYPED)
    deliver(app)
    browser.submit_page({"code": use_sms_gateway.last_code(NEW)})
    deliver(app)
    [notice] = use_sms_gateway.to(OLD)
    assert "a été changé" in notice["text"] and "/recuperation/mot-de-passe" in notice["text"]


def test_bad_numbers_are_told_and_nothing_is_sent(app, browser, make, use_sms_gateway):
    account = make.account()
    update_account(app, account.id, phone=OLD)
    browser.sign_in(account.identifier, account.password)
    for typed, message in (("06 12 34 56 78", "C'est déjà le numéro de votre compte"),
                           ("06 12", "Ce numéro de téléphone n'est pas valide."),
                           ("08 99 23 45 67", "surtaxés"),
                           ("+1 202 555 0143", "Seuls les numéros de téléphone portable")):
        page = ask_change(browser, typed)
        assert page.status_code == 400 and message in unescape(page.text), typed
        assert 'id="phone-error"' in page.text
    deliver(app)
    assert use_sms_gateway.messages == [] and account_row(app, account.id).phone == OLD


def test_the_code_page_without_a_pending_change_goes_back(browser, make):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    assert browser.get("/compte/telephone/code").request.path == "/compte/telephone"


def test_resend_respects_the_wait(app, browser, make, use_sms_gateway):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    code_page = ask_change(browser, NEW_TYPED)
    page = browser.submit("/compte/telephone/renvoyer", {}, page_html=code_page.text)
    assert "vous pourrez en demander un autre dans" in unescape(page.text)
    deliver(app)
    assert len(use_sms_gateway.to(NEW)) == 1
