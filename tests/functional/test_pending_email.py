"""Issue 21, point 5: an address typed in "Contact et préférences" (or in "Mon compte")
and waiting for its confirmation link is shown: "Mon compte" names it, says a link was sent,
and offers "Renvoyer le lien" and a way to change it; the contact step brings it back typed
at the next sign-in. An address another account holds is shown waiting just the same (the
page must not tell)."""
from __future__ import annotations

import re
import time
from html import unescape

from ..support.accounts import comparable, deliver, link_in, mails_to

NEW = "camille.nouvelle@example.org"


def test_an_address_typed_at_the_contact_step_is_shown_waiting(app, browser, make, use_smtp):
    parent = make.account(email=None, preferences_done=False)
    page = browser.sign_in(parent)
    assert page.request.path == "/preferences"
    browser.submit_page({"email": NEW})
    page = browser.get("/compte")
    text = unescape(page.text)
    assert "Aucune adresse email." not in text
    assert "Nouvelle adresse en attente de confirmation" in text and NEW in text
    assert "Un lien de confirmation y a été envoyé le" in text and "Renvoyer le lien" in text
    assert "Changer l'adresse en attente" in text
    # "Renvoyer le lien": a second link, the newest one works.
    page = browser.submit("/compte/email/renvoyer", {})
    assert page.request.path == "/compte" and "Un nouveau lien de confirmation a été envoyé" \
        in unescape(page.text)
    deliver(app)
    assert len(mails_to(use_smtp, NEW)) == 2
    # The next sign-in: the contact step comes back with the address typed, and says why.
    browser.logout()
    time.sleep(0.01)
    page = browser.sign_in(parent)
    assert page.request.path == "/preferences"
    assert re.search(rf'name="email"[^>]*value="{re.escape(NEW)}"', page.text) \
        or re.search(rf'value="{re.escape(NEW)}"[^>]*name="email"', page.text)
    assert "Un lien de confirmation a été envoyé à" in unescape(page.text)
    # The link opened: the address is the account's, nothing waits any more.
    link = link_in(use_smtp, mails_to(use_smtp, NEW)[-1], "/preferences/email/")
    browser.get(link)
    browser.submit_page()
    page = browser.get("/compte")
    text = unescape(page.text)
    assert NEW in text and "en attente de confirmation" not in text


def test_an_address_another_account_holds_looks_waiting_the_same(app, browser, make,
                                                                 use_smtp):
    make.account(first_name="Autre", email="famille@example.org")
    parent = make.account()
    seen = []
    for address in ("famille@example.org", "libre@example.org"):
        b = type(browser)(app.test_client())
        b.sign_in(parent)
        b.get("/compte/email")
        b.submit_page({"email": address, "email_confirm": address})
        text = unescape(b.get("/compte").text)
        seen.append(re.sub(r"le \d\d/\d\d/\d{4} \d\d:\d\d", "le D",
                           comparable(text, address)))
        assert "Nouvelle adresse en attente de confirmation" in text
    assert seen[0] == seen[1]


def test_resend_without_a_waiting_address_goes_back(browser, make, use_smtp):
    browser.sign_in(make.account())
    page = browser.submit("/compte/email/renvoyer", {}, page_html=browser.get("/compte/email").text)
    assert page.request.path == "/compte" and "Un nouveau lien" not in unescape(page.text)
    assert use_smtp.messages == []
