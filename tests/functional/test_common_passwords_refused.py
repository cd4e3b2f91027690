"""Common and leaked passwords are refused wherever a password is chosen (issue 17,
point 4): "Mon compte", a reset by link; the strength meter's endpoint gives the
server's verdict (the page without JavaScript gets the same one after a submit)."""
from __future__ import annotations

from html import unescape

from .test_recovery_password import ask_reset, reset_link

LEAKED = "Sunshine2!"  # meets every rule of the policy, and is in every leak
REFUSED = "Ce mot de passe est trop courant."


def test_mon_compte_refuses_a_leaked_password(browser, make):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    browser.get("/compte/mot-de-passe")
    page = browser.submit_page({"current": account.password, "password": LEAKED,
                                "password_confirm": LEAKED})
    assert page.status_code == 400 and REFUSED in unescape(page.text)


def test_a_reset_refuses_a_leaked_password(app, browser, make, use_smtp):
    account = make.account()
    ask_reset(browser, account.identifier)
    browser.get(reset_link(app, use_smtp, "camille.martin@example.org"))
    page = browser.submit_page({"password": LEAKED, "password_confirm": LEAKED})
    assert page.status_code == 400 and REFUSED in unescape(page.text)


def _csrf_headers(browser):
    import re

    html = browser.get("/inscription").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return {"X-CSRFToken": token.group(1)}


def test_the_meter_endpoint_gives_the_servers_verdict(browser):
    headers = _csrf_headers(browser)
    post = browser.client.post
    leaked = post("/inscription/mot-de-passe/verdict", json={"password": LEAKED},
                  headers=headers)
    assert leaked.status_code == 200 and leaked.json["level"] == "weak"
    strong = post("/inscription/mot-de-passe/verdict",
                  json={"password": "Trousse-Verte-2027"}, headers=headers)
    assert strong.json["level"] == "very_strong"
    for bad in ({"password": 12}, {"nothing": 1}, ["x"], {"password": "x" * 2000}):
        assert post("/inscription/mot-de-passe/verdict", json=bad,
                    headers=headers).status_code == 400
    # Without the page's CSRF token: refused, never a 500.
    assert post("/inscription/mot-de-passe/verdict",
                json={"password": LEAKED}).status_code == 400
