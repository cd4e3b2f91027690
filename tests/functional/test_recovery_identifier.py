""""Identifiant oublié ?" (J6, seeds 001 and 002): by verified email or by the registered
mobile, the identifier(s) sent on that channel (a real SMTP server, a local SMS gateway
over HTTP); the page answers the same whether anything matched."""
from __future__ import annotations

from html import unescape

from ..support.accounts import deliver, update_account

MOBILE, MOBILE_TYPED = "+33612345678", "06 12 34 56 78"


def by_email(browser, email: str):
    browser.get("/recuperation/identifiant")
    return browser.submit("/recuperation/identifiant/email", {"email": email})


def by_sms(browser, phone: str):
    browser.get("/recuperation/identifiant")
    return browser.submit("/recuperation/identifiant/sms", {"phone": phone})


def test_by_email_every_account_of_the_address_is_listed(app, browser, make, use_smtp):
    parent = make.account(email="famille@example.org")
    pupil = make.account(profile="pupil", first_name="Léa", email="famille@example.org")
    make.account(first_name="Autre", email="autre@example.org")
    page = by_email(browser, "famille@example.org")
    assert page.status_code == 200 and "Consultez vos messages" in page.text
    deliver(app)
    [mail] = use_smtp.messages
    assert mail["To"] == "famille@example.org" and "Votre identifiant" in mail["Subject"]
    text = use_smtp.text_of(mail)
    assert parent.identifier in text and pupil.identifier in text
    assert "représentant légal" in text and "élève" in text
    assert "Autre" not in text
    assert "/recuperation/mot-de-passe" in text


def test_by_email_the_page_is_the_same_when_nothing_matches(app, browser, make, use_smtp):
    make.account(email="famille@example.org")
    unverified = make.account(first_name="Noé", email="noe@example.org")
    update_account(app, unverified.id, email_verified=False)
    pages = [by_email(type(browser)(app.test_client()), address).text.replace(address, "X")
             for address in ("famille@example.org", "personne@example.org", "noe@example.org")]
    assert pages[0] == pages[1] == pages[2]
    deliver(app)
    assert [m["To"] for m in use_smtp.messages] == ["famille@example.org"]


def test_by_email_a_malformed_address_is_told_beside_the_field(browser, use_smtp):
    page = by_email(browser, "famille@")
    assert page.status_code == 400 and 'id="email-error"' in page.text
    assert "Saisissez une adresse de messagerie valide" in page.text
    assert 'value="famille@"' in page.text


def test_by_sms_the_identifiers_go_to_the_registered_mobile(app, browser, make,
                                                            use_sms_gateway):
    parent = make.account()
    update_account(app, parent.id, phone=MOBILE)
    page = by_sms(browser, MOBILE_TYPED)
    assert page.status_code == 200 and "Consultez vos messages" in page.text
    deliver(app)
    [sms] = use_sms_gateway.to(MOBILE)
    assert parent.identifier in sms["text"]


def test_by_sms_the_page_is_the_same_for_an_unknown_number(app, browser, make,
                                                           use_sms_gateway):
    parent = make.account()
    update_account(app, parent.id, phone=MOBILE)
    known = by_sms(type(browser)(app.test_client()), MOBILE_TYPED)
    unknown = by_sms(type(browser)(app.test_client()), "07 98 76 54 32")
    assert known.text == unknown.text
    deliver(app)
    assert [m["to"] for m in use_sms_gateway.messages] == [MOBILE]


def test_by_sms_a_number_that_cannot_receive_it_is_told(browser, use_sms_gateway):
    for typed, message in (("12", "Ce numéro de téléphone n'est pas valide."),
                           ("01 23 45 67 89", "n'est pas un numéro de téléphone portable"),
                           ("+44 7911 123456", "Seuls les numéros de téléphone portable français")):
        page = by_sms(browser, typed)
        assert page.status_code == 400 and message in unescape(page.text), typed
        assert 'id="phone-error"' in page.text
    assert use_sms_gateway.messages == []


def test_repeated_sms_to_one_number_wait_known_or_not(app, browser, make, use_sms_gateway):
    parent = make.account()
    update_account(app, parent.id, phone=MOBILE)
    for number in (MOBILE_TYPED, "07 98 76 54 32"):
        by_sms(type(browser)(app.test_client()), number)
        again = by_sms(type(browser)(app.test_client()), number)
        assert "Vous pourrez en demander un autre dans" in unescape(again.text)
    deliver(app)
    assert len(use_sms_gateway.messages) == 1


def test_too_many_requests_from_one_connection(app, browser, monkeypatch, use_smtp):
    monkeypatch.setitem(app.config, "RECOVERY_REQUESTS_PER_IP_HOUR", 2)
    assert by_email(browser, "a@example.org").status_code == 200
    assert by_email(browser, "b@example.org").status_code == 200
    page = by_email(browser, "c@example.org")
    # Past the ceiling the address is slowed, never shut (a school's NAT: issue 17).
    assert page.status_code == 429 and "Réessayez dans 1 seconde" in page.text
    app.extensions["idp"]["store"].delete("pace:recovery-ip:127.0.0.1")  # the wait ran out
    assert by_email(browser, "c@example.org").status_code == 200
