"""Issue 19 in Chromium: « S'identifier avec FranceConnect » from the sign-in page to the
stand-in and back, the first link (mobile, SMS code, birth dates), Mon compte, and the
logout through FranceConnect; every IdP and stand-in page audited (axe at desktop and
320 px, no CSP violation: the button's POST and the logout's are followed by redirects
to FranceConnect, which the pages' form-action must allow), and FranceConnect down."""
from __future__ import annotations

import pytest

from idp.admin.demo import load_demo
from idp.db import db
from tests.support.franceconnect import NADIA_PHONE, franceconnect_idp  # noqa: F401
from tests.support.signup import last_code


@pytest.fixture
def setup(app, franceconnect_idp):
    franceconnect_idp.switch("ok")
    with app.app_context():
        load_demo()
        db.session.commit()
    return franceconnect_idp


def _to_the_button(family, setup) -> None:
    family.goto(setup.idp.url + "/choisir-profil")
    family.page.get_by_label("Représentant légal", exact=True).check()
    family.page.get_by_label("Mon académie").select_option(label="Nancy-Metz")
    family.click("main button[type=submit]")
    assert family.path == "/connexion", family.page.url


def test_a_parent_signs_in_with_franceconnect_the_first_time(family, app, setup):
    _to_the_button(family, setup)
    assert family.page.get_by_role("link", name="Qu'est-ce que FranceConnect ?").is_visible()
    family.click("main button.button-franceconnect")
    assert family.page.url.startswith(setup.fc.url), family.page.url
    family.page.get_by_label("Nadia Benali", exact=False).check()
    family.click("main button[value=continue]")
    assert family.path == "/franceconnect/telephone", family.page.url
    family.page.locator("main [name=phone]").fill("06 12 34 56 78")
    family.click("main button[type=submit]")
    assert family.path == "/franceconnect/code", family.page.url
    family.page.locator("main [name=code]").fill(last_code(app, NADIA_PHONE))
    family.click("main form:first-of-type button[type=submit]")
    assert family.path == "/franceconnect/eleves", family.page.url
    for n, (day, month, year) in enumerate((("12", "10", "2013"), ("04", "07", "2010"))):
        family.page.locator(f"main input[name=link_{n}][value=yes]").check()
        family.page.locator(f"main [name=day_{n}]").fill(day)
        family.page.locator(f"main [name=month_{n}]").fill(month)
        family.page.locator(f"main [name=year_{n}]").fill(year)
    family.click("main button[type=submit]")
    assert family.path == "/charte", family.page.url
    family.page.get_by_role("checkbox").first.check()
    family.click("main button[type=submit]")
    if family.path == "/preferences":
        family.click("main button[type=submit]")
    assert family.path == "/", family.page.url
    family.goto(setup.idp.url + "/compte")
    assert "viennent de FranceConnect" in family.text()
    before = len(setup.logouts())
    family.goto(setup.idp.url + "/")
    family.click("button:has-text('Se déconnecter')")
    assert family.path == "/deconnecte", family.page.url
    assert len(setup.logouts()) == before + 1


def test_franceconnect_down_shows_the_password_form(family, setup):
    setup.switch("error500")
    _to_the_button(family, setup)
    family.click("main button.button-franceconnect")
    family.page.get_by_label("Nadia Benali", exact=False).check()
    family.click("main button[value=continue]")
    assert "FranceConnect est indisponible" in family.text()
    assert family.page.locator("main [name=password]").is_visible()
