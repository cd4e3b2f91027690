""""Mot de passe oublié ?" by SMS (J6): a code to the registered mobile (delivered to a
local SMS gateway over HTTP), typed back, then a new password. An identifier without a
mobile, or unknown, gets the same pages and the same answers to wrong codes."""
from __future__ import annotations

from html import unescape

import pytest

from ..support.accounts import account_row, comparable, deliver, mails_to, update_account
from ..support.browser import browser_from

MOBILE = "+33612345678"
NEW_PASSWORD = "Trousse-Verte-2027"


def ask_code(browser, identifier: str):
    browser.get("/recuperation/mot-de-passe")
    browser.submit("/recuperation/mot-de-passe", {"identifier": identifier})
    return browser.submit_page({"channel": "sms"})


def code_sent(app, gateway) -> str:
    deliver(app)
    return gateway.last_code(MOBILE)


def test_reset_by_sms_code(app, browser, make, use_sms_gateway, use_smtp):
    account = make.account()
    update_account(app, account.id, phone=MOBILE)
    other = type(browser)(app.test_client())
    other.sign_in(account.identifier, account.password)
    page = ask_code(browser, account.identifier)
    assert page.request.path == "/recuperation/mot-de-passe/code"
    assert "Saisissez le code reçu par SMS" in page.text
    code = code_sent(app, use_sms_gateway)
    wrong = browser.submit_page({"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "Code incorrect. Il vous reste 2 essais." in wrong.text
    page = browser.submit_page({"code": f"{code[:3]} {code[3:]}"})
    assert page.request.path == "/recuperation/mot-de-passe/nouveau"
    assert account.identifier in page.text
    weak = browser.submit_page({"password": "abc", "password_confirm": "abc"})
    assert weak.status_code == 400 and "8 caractères minimum." in weak.text
    done = browser.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert "Votre mot de passe a été changé" in done.text
    assert other.get("/").request.path != "/"
    # The page is spent: going back does not allow a second change.
    assert browser.get("/recuperation/mot-de-passe/nouveau").request.path \
        == "/recuperation/mot-de-passe"
    assert browser.sign_in(account.identifier, NEW_PASSWORD).request.path == "/"
    deliver(app)
    assert "a été renouvelé" in use_smtp.text_of(mails_to(use_smtp, "camille.martin@example.org")[-1])


def test_three_wrong_codes_kill_it(app, browser, make, use_sms_gateway):
    account = make.account()
    update_account(app, account.id, phone=MOBILE)
    ask_code(browser, account.identifier)
    code = code_sent(app, use_sms_gateway)
    bad = "000000" if code != "000000" else "111111"
    answers = [browser.submit_page({"code": bad}) for _ in range(3)]
    assert "Trop d'essais : ce code ne fonctionne plus." in unescape(answers[-1].text)
    late = browser.submit_page({"code": code})
    assert late.status_code == 400 and late.request.path == "/recuperation/mot-de-passe/code"
    before = account_row(app, account.id).password_hash
    assert browser.get("/recuperation/mot-de-passe/nouveau").request.path \
        == "/recuperation/mot-de-passe/code"
    assert account_row(app, account.id).password_hash == before


def test_unknown_identifier_or_no_mobile_get_the_same_pages(app, browser, make,
                                                            use_sms_gateway, use_smtp):
    with_mobile = make.account()
    update_account(app, with_mobile.id, phone=MOBILE)
    pupil = make.account(profile="pupil", first_name="Léa", email=None)
    seen = {}
    for name, identifier in (("mobile", with_mobile.identifier), ("unknown", "x.personne9"),
                             ("pupil", pupil.identifier)):
        b = type(browser)(app.test_client())
        page = ask_code(b, identifier)
        wrong = [b.submit_page({"code": "000000"}) for _ in range(3)]
        seen[name] = [comparable(p.text, identifier) for p in [page] + wrong]
        assert "demandez à votre établissement le renouvellement de votre mot de passe" \
            in unescape(page.text)
    deliver(app)
    code = use_sms_gateway.last_code(MOBILE)
    if code == "000000":  # one chance in a million: the texts would differ
        return
    assert seen["mobile"] == seen["unknown"] == seen["pupil"]
    assert [m["to"] for m in use_sms_gateway.messages] == [MOBILE]
    assert use_smtp.messages == []


def test_resend_waits_for_known_and_unknown_alike(app, browser, make, use_sms_gateway):
    account = make.account()
    update_account(app, account.id, phone=MOBILE)
    answers = []
    for identifier in (account.identifier, "x.personne9"):
        b = type(browser)(app.test_client())
        ask_code(b, identifier)
        page = b.submit("/recuperation/mot-de-passe/code/renvoyer", {})
        answers.append(comparable(page.text, identifier))
        assert "Vous pourrez en demander un nouveau dans" in unescape(page.text)
    assert answers[0] == answers[1]
    deliver(app)
    assert len(use_sms_gateway.messages) == 1


def send_answers(app, identifier: str, resends: int) -> list[tuple[bool, int | None]]:
    """From an empty store and one address: ask for a code, then press "Renvoyer le SMS"
    `resends` times; each answer is (sent, the wait the page announces or None)."""
    app.extensions["idp"]["store"].flush()
    b = browser_from(app, "198.51.100.40")
    pages = [ask_code(b, identifier)]
    for _ in range(resends):
        pages.append(b.submit("/recuperation/mot-de-passe/code/renvoyer", {}))
    answers = []
    for page in pages:
        assert page.request.path == "/recuperation/mot-de-passe/code"
        wait = page.request.args.get("attendre", type=int)
        answers.append((wait is None, wait))
    return answers


def same_answers(first: list, second: list) -> bool:
    """The same sends refused, with waits a second apart at most (the store's clock ran
    between the two runs)."""
    return len(first) == len(second) and all(
        a[0] == b[0] and (a[1] is None) == (b[1] is None) and abs((a[1] or 0) - (b[1] or 0)) <= 1
        for a, b in zip(first, second))


@pytest.mark.parametrize("limits,resends,expected", [
    # The wait before "Renvoyer le SMS" (30 s after the first SMS).
    ({}, 2, [True, False, False]),
    # The daily cap per number (or per identifier without one).
    ({"SMS_RESEND_SECONDS": 0, "SMS_MAX_PER_NUMBER_DAY": 2}, 3, [True, True, False, False]),
    # The pace per IP: past the hourly ceiling, the next SMS in a second.
    ({"SMS_RESEND_SECONDS": 0, "SMS_MAX_PER_IP_HOUR": 2}, 2, [True, True, False]),
    # The daily budget of the gateway, over every number.
    ({"SMS_RESEND_SECONDS": 0, "SMS_MAX_PER_DAY": 1}, 2, [True, False, False]),
], ids=["pace", "number", "ip", "budget"])
def test_every_send_limit_answers_alike_with_or_without_a_mobile(
        app, make, use_sms_gateway, monkeypatch, limits, resends, expected):
    """An identifier without a mobile (or unknown) meets the very limits a real send
    meets (security/sms_codes.py, through withhold_code), so its answers at every edge are
    those of an identifier with a mobile: it cannot be told apart."""
    for name, value in limits.items():
        monkeypatch.setitem(app.config, name, value)
    with_mobile = make.account()
    update_account(app, with_mobile.id, phone=MOBILE)
    no_mobile = make.account(profile="pupil", first_name="Léa", email=None)
    answers = {name: send_answers(app, identifier, resends)
               for name, identifier in (("mobile", with_mobile.identifier),
                                        ("no mobile", no_mobile.identifier),
                                        ("unknown", "x.personne9"))}
    assert [sent for sent, _ in answers["mobile"]] == expected, answers
    assert same_answers(answers["mobile"], answers["no mobile"]), answers
    assert same_answers(answers["mobile"], answers["unknown"]), answers


def test_a_new_code_after_the_wait_replaces_the_old_one(app, browser, make, use_sms_gateway,
                                                       monkeypatch):
    monkeypatch.setitem(app.config, "SMS_RESEND_SECONDS", 0)
    account = make.account()
    update_account(app, account.id, phone=MOBILE)
    ask_code(browser, account.identifier)
    first = code_sent(app, use_sms_gateway)
    browser.submit("/recuperation/mot-de-passe/code/renvoyer", {})
    second = code_sent(app, use_sms_gateway)
    if first == second:
        return
    stale = browser.submit_page({"code": first})
    assert stale.status_code == 400
    assert browser.submit_page({"code": second}).request.path == "/recuperation/mot-de-passe/nouveau"


def test_the_code_page_needs_a_request_first(browser):
    assert browser.get("/recuperation/mot-de-passe/code").request.path == "/recuperation/mot-de-passe"
    assert browser.get("/recuperation/mot-de-passe/nouveau").request.path \
        == "/recuperation/mot-de-passe"


def test_forgetting_both_the_identifier_then_the_password_sends_both_sms(
        app, browser, make, use_sms_gateway):
    """Issue 21, point 4: right after "Identifiant oublié ? → par SMS", "Mot de passe
    oublié ? → par SMS" to the same mobile is another purpose, not a resend: the code is
    sent at once, for an identifier with that mobile as for one without any."""
    account = make.account()
    update_account(app, account.id, phone=MOBILE)
    browser.get("/recuperation/identifiant")
    page = browser.submit("/recuperation/identifiant/sms", {"phone": "06 12 34 56 78"})
    assert "seconde" not in unescape(page.text)
    page = ask_code(browser, account.identifier)
    text = unescape(page.text)
    assert page.request.path == "/recuperation/mot-de-passe/code"
    assert "Un SMS a déjà été envoyé" not in text and "un code à 6 chiffres vient d'y être" in text
    # A resend of the same purpose still waits.
    page = browser.submit("/recuperation/mot-de-passe/code/renvoyer", {})
    assert "Vous pourrez en demander un nouveau dans" in unescape(page.text)
    deliver(app)
    texts = [m["text"] for m in use_sms_gateway.to(MOBILE)]
    assert len(texts) == 2 and account.identifier in texts[0], texts
    code = use_sms_gateway.last_code(MOBILE)
    page = browser.submit_page({"code": code})
    assert page.request.path == "/recuperation/mot-de-passe/nouveau"


def test_no_code_received_leads_to_the_email_link_or_the_school(app, browser, make,
                                                                 use_sms_gateway, use_smtp):
    """Issue 21, point 6: an account without a mobile chose SMS; the code page offers a
    way out that works ("Recevoir plutôt un lien par email" sends the link at once), and
    the page is the same for an identifier that exists and one that does not."""
    no_mobile = make.account(email="famille.sans.portable@example.org")
    pages = {}
    for name, identifier in (("no mobile", no_mobile.identifier), ("unknown", "x.personne9")):
        b = type(browser)(app.test_client())
        page = ask_code(b, identifier)
        text = unescape(page.text)
        assert "Vous n'avez pas reçu de code ?" in text
        assert "demandez à votre établissement le renouvellement" in text  # the school
        assert 'action="/recuperation/mot-de-passe/code/par-email"' in page.text
        sent = b.submit("/recuperation/mot-de-passe/code/par-email", {})
        assert sent.status_code == 200 and "Consultez votre messagerie" in unescape(sent.text)
        assert sent.request.path != "/recuperation/mot-de-passe/moyen"
        pages[name] = comparable(sent.text, identifier)
    assert pages["no mobile"] == pages["unknown"]
    deliver(app)
    assert use_sms_gateway.messages == []
    [mail] = mails_to(use_smtp, "famille.sans.portable@example.org")
    link = next(l for l in use_smtp.links(mail) if "/recuperation/mot-de-passe/lien/" in l)
    page = browser.get(link.replace("http://localhost", ""))
    assert page.status_code == 200 and 'name="password"' in page.text


def test_the_email_way_out_needs_a_code_request_first(browser, use_smtp):
    browser.get("/recuperation/mot-de-passe")
    page = browser.submit("/recuperation/mot-de-passe/code/par-email", {})
    assert page.request.path == "/recuperation/mot-de-passe"
    assert use_smtp.messages == []
