"""Issue 21, point 5: an address typed in "Contact et préférences" (or in "Mon compte")
and waiting for its confirmation link is shown: "Mon compte" names it, says a link was sent,
and offers "Renvoyer le lien" and a way to change it; the contact step stays away while the
link can be opened, then brings the address back typed. An address another account holds
is shown waiting just the same (the page must not tell)."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from idp.db import db
from idp.journeys.preferences.email_change import LINK_LIFETIME
from idp.models import ContactPreferences, OneTimeToken

from ..support.accounts import comparable, deliver, link_in, mails_to

NEW = "camille.nouvelle@example.org"


def shift_times(app, account_id: int, model, *columns: str) -> None:
    """These times of the account's rows, a confirmation link's lifetime earlier."""
    shift = LINK_LIFETIME + timedelta(minutes=1)
    with app.app_context():
        for row in db.session.scalars(select(model).where(model.account_id == account_id)):
            for column in columns:
                setattr(row, column, getattr(row, column) - shift)
        db.session.commit()


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
    # The next sign-ins: while the link sent can be opened the contact step stays away,
    # even a day after it was answered (the link was sent again since, from "Mon compte").
    browser.logout()
    time.sleep(0.01)
    assert browser.sign_in(parent).request.path == "/"
    browser.logout()
    shift_times(app, parent.id, ContactPreferences, "asked_at")
    assert browser.sign_in(parent).request.path == "/"
    # Once the link has expired unopened, the contact step comes back with the address
    # typed, and says why.
    browser.logout()
    shift_times(app, parent.id, OneTimeToken, "created_at", "expires_at")
    page = browser.sign_in(parent)
    assert page.request.path == "/preferences"
    assert re.search(rf'name="email"[^>]*value="{re.escape(NEW)}"', page.text) \
        or re.search(rf'value="{re.escape(NEW)}"[^>]*name="email"', page.text)
    assert f"Le lien de confirmation envoyé à {NEW} le" in unescape(page.text)
    page = browser.submit_page({"email": NEW})  # a new link
    assert f"Nous avons envoyé un lien de confirmation à {NEW}" in page.text
    deliver(app)
    assert len(mails_to(use_smtp, NEW)) == 3
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
