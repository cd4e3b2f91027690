"""The current password asked again in "Mon compte" is under the sign-in throttle; once
the throttle holds, the page says "try again in N seconds" (not "wrong password", which
would send the family hunting for a typo in the right password), checks nothing, and,
as the sign-in page, does not make the wait longer."""
from __future__ import annotations

import re
from html import unescape

from ..support.accounts import audit_actions

WAIT = re.compile(r"Trop d'essais : votre mot de passe n'a pas été vérifié\. Réessayez dans "
                  r"(\d+) secondes?\.")


def test_a_throttled_reauthentication_says_wait_and_does_not_lengthen_it(app, browser, make):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    browser.get("/compte/confirmer-mot-de-passe")
    for i in range(6):
        page = browser.submit_page({"password": f"Devinette-{i}!"})
        assert page.status_code == 400
    guard = app.extensions["idp"]["throttle"]
    for _ in range(4):  # more failures from this address: a wait of 32 s, not 2
        guard.record_failure("127.0.0.1", account.identifier)
    page = browser.submit_page({"password": account.password})  # right, but throttled
    first = WAIT.search(unescape(page.text))
    assert page.status_code == 400 and first, unescape(page.text)
    assert "Mot de passe incorrect" not in unescape(page.text)
    again = WAIT.search(unescape(browser.submit_page({"password": "Devinette-9!"}).text))
    assert again and int(again.group(1)) <= int(first.group(1))
    assert "current_password_throttled" in audit_actions(app)
