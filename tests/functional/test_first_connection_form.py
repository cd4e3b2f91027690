"""Issue 21, point 8: the first-connection form is not harsh. The password rules come
first and together with the confirmation; no birth-date try is spent while the form has
other errors; a password that passed is kept (server-side) when only another field was
wrong; the rules are ticked as on J4, also without JavaScript (server-rendered)."""
from __future__ import annotations

import re
from html import unescape

from ..support.letters import NEW_PASSWORD
from .test_activation import account, first_connection


def test_a_sloppy_date_with_a_bad_password_spends_no_try(app, browser, letters):
    page = first_connection(browser, "m.durand", letters["m.durand"], password="durand",
                            password_confirm="autre", birth_date="1/2/2013")
    text = unescape(page.text)
    assert page.status_code == 400
    assert account(app, "m.durand").birth_date_failures == 0
    assert "essai" not in text  # the date was not compared
    # Every password problem in one round: the rules it breaks and the mismatch.
    assert "Au moins une lettre majuscule." in text and "Au moins un chiffre." in text
    assert "Les deux mots de passe ne sont pas identiques." in text
    assert 'value="1/2/2013"' in page.text  # what was typed is kept
    # The checklist, ticked by the server for the password typed (no JavaScript needed).
    assert re.search(r'class="rule rule-met" data-rule="lower"', page.text)
    assert re.search(r'class="rule" data-rule="upper"', page.text)


def test_a_good_password_is_kept_when_only_the_date_is_wrong(app, browser, letters):
    page = first_connection(browser, "m.durand", letters["m.durand"], birth_date="01/01/2012")
    text = unescape(page.text)
    assert "Il reste 4 essais." in text
    assert "mot de passe est conservé" in text
    assert NEW_PASSWORD not in page.text  # never sent back
    page = browser.submit("/premiere-connexion", {"password": "", "password_confirm": "",
                                                  "birth_date": "14/03/2012",
                                                  "email": "marie@example.org"})
    assert "Compte en attente de validation" in page.text, unescape(page.text)[:800]
    # The kept password is the one saved: another browser signs in with it.
    other = type(browser)(app.test_client())
    other.choose()
    page = other.sign_in("m.durand", NEW_PASSWORD, choose=False)
    assert page.request.path == "/premiere-connexion"
    assert "Compte en attente de validation" in page.text
