"""Issue 21, point 10: smaller dead ends. "J'ai cliqué sur le lien : continuer" before the
link was used says so; a whole date typed in J4's day box is split over the three boxes
(without JavaScript too); /connexion for a browser already signed in shows who is signed in
with "Continuer" and "Changer de compte" instead of an empty form."""
from __future__ import annotations

import html
import re

import pytest

from idp.db import db
from idp.notify.delivery import deliver_due

from ..support.letters import NEW_PASSWORD
from ..support.signup import Signup, make_family, plain

NOT_YET = "Le lien n'a pas encore été utilisé"


def continue_link(page) -> str:
    match = re.search(r'href="([^"]+)">J(?:\'|&#39;)ai cliqué sur le lien : continuer',
                      page.text)
    assert match, "no continue link"
    return html.unescape(match.group(1))


def test_continue_before_the_link_is_used_says_so_then_goes_on(app, browser, letters,
                                                                use_smtp):
    browser.choose()
    browser.sign_in("m.durand", letters["m.durand"], choose=False)
    pending = browser.submit("/premiere-connexion", {
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
        "birth_date": "14/03/2012", "email": "marie@example.org"})
    assert "Compte en attente de validation" in pending.text and NOT_YET not in plain(pending)
    page = browser.get(continue_link(pending))
    assert page.request.path == "/premiere-connexion"
    assert NOT_YET in plain(page) and 'role="alert"' in page.text
    # The link is used (in the mail app), then "continuer" goes on to the services.
    with app.app_context():
        deliver_due()
    link = use_smtp.links(use_smtp.wait_for(1)[-1])[0]
    assert "Votre compte a été validé" in browser.get(link.replace("http://localhost", "")).text
    page = browser.get(continue_link(pending))
    assert page.request.path in ("/charte", "/preferences", "/"), page.request.path
    assert NOT_YET not in plain(page)


@pytest.mark.parametrize("typed", ["20/05/2013", "20 05 2013", "20.5.2013", " 20-05-2013 "])
def test_a_whole_date_in_the_day_box_counts_for_the_three(app, browser, typed):
    make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    signup.code()
    page = signup.pupils(("yes", typed, "", ""))
    assert page.request.path == "/inscription/mot-de-passe", plain(page)[:800]


def test_a_whole_wrong_date_in_the_day_box_comes_back_in_the_three_boxes(app, browser):
    make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    signup.code()
    page = signup.pupils(("yes", "21/05/2013", "", ""))
    assert page.status_code == 400 and "Il reste 2 essais." in plain(page)
    assert 'name="day_0" size="2" type="text" value="21"' in page.text \
        or re.search(r'name="day_0"[^>]*value="21"', page.text)
    assert re.search(r'name="month_0"[^>]*value="05"', page.text)
    assert re.search(r'name="year_0"[^>]*value="2013"', page.text)


def test_connexion_when_signed_in_shows_who_and_two_ways(browser, make):
    account = make.account()
    browser.sign_in(account)
    page = browser.get("/connexion")
    text = plain(page)
    assert page.status_code == 200 and page.request.path == "/connexion"
    assert account.identifier in text and "Camille Martin" in text
    assert "Continuer" in text and "Changer de compte" in text
    assert 'name="password"' not in page.text
    onward = re.search(r'href="([^"]+)">Continuer<', page.text).group(1)
    assert browser.get(onward).request.path == "/"
    other = browser.get("/connexion?changer=1")
    assert 'name="password"' in other.text and 'name="identifier"' in other.text
    second = make.account(first_name="Sacha")
    page = browser.submit("/connexion?changer=1", {"identifier": second.identifier,
                                                   "password": second.password})
    assert page.request.path == "/" and "Sacha" in plain(page)


def test_connexion_for_a_stranger_is_the_form(browser):
    browser.choose()
    page = browser.get("/connexion")
    assert 'name="password"' in page.text and "Changer de compte" not in plain(page)
