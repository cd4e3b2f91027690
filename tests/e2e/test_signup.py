"""J4 self-registration in Chromium: identity and mobile, the SMS code read from the
outbox, the pupils' links and birth dates, the password with its live strength meter;
every step's error state (empty, wrong value, double submit), every page audited."""
from __future__ import annotations

from tests.support.signup import PHONE, last_code, make_family

STRONG = "Trousse-Verte-2026!"


def _field(family, name: str):
    return family.page.locator(f"main [name={name}]")


def test_family_creates_its_account_with_the_sms_code(family, app, served_idp):
    make_family(app)
    family.goto(served_idp.url + "/inscription")
    assert "Je confirme mon identité" in family.text()

    family.click("main button[type=submit]")  # empty
    assert family.path == "/inscription"
    assert family.page.locator(".error-summary").is_visible()
    assert _field(family, "last_name").get_attribute("aria-invalid") == "true"
    _field(family, "last_name").fill("Petit")
    _field(family, "first_name").fill("Jeanne")
    _field(family, "phone").fill("08 99 00 00 00")  # wrong: not a mobile number
    family.click("main button[type=submit]")
    assert family.path == "/inscription"
    assert _field(family, "phone").get_attribute("aria-invalid") == "true"
    _field(family, "phone").fill("06 11 22 33 44")
    family.double_submit()
    assert family.path == "/inscription/code", family.page.url
    assert "+33 6 11 22 33 44" in family.text()

    family.click("main button[type=submit]")  # empty code
    assert family.page.locator(".error-summary").is_visible()
    code = last_code(app, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    _field(family, "code").fill(wrong)
    family.click("main button[type=submit]")
    assert "n'est pas le bon" in family.text()
    _field(family, "code").fill(code)
    family.double_submit()
    assert family.path == "/inscription/eleves", family.page.url

    family.click("main button[type=submit]")  # nothing answered
    assert family.page.locator(".error-summary").is_visible()
    family.page.locator("main input[name=link_0][value=yes]").check()
    _field(family, "day_0").fill("21")  # wrong date
    _field(family, "month_0").fill("05")
    _field(family, "year_0").fill("2013")
    family.click("main button[type=submit]")
    assert family.path == "/inscription/eleves"
    assert family.page.locator(".error-summary").is_visible()
    family.page.locator("main input[name=link_0][value=yes]").check()
    _field(family, "day_0").fill("20")
    _field(family, "month_0").fill("05")
    _field(family, "year_0").fill("2013")
    family.click("main button[type=submit]")
    assert family.path == "/inscription/mot-de-passe", family.page.url

    # The strength meter follows the typing (static/js/password-strength.js).
    _field(family, "password").fill("abc")
    assert "Trop faible" in family.page.locator("[data-strength-label]").inner_text()
    family.click("main button[type=submit]")  # weak and no confirmation
    assert family.path == "/inscription/mot-de-passe"
    assert family.page.locator(".error-summary").is_visible()
    _field(family, "password").fill(STRONG)
    _field(family, "password_confirm").fill(STRONG + "x")  # not the same
    family.click("main button[type=submit]")
    assert family.path == "/inscription/mot-de-passe"
    assert _field(family, "password_confirm").get_attribute("aria-invalid") == "true"
    _field(family, "password").fill(STRONG)
    _field(family, "password_confirm").fill(STRONG)
    family.double_submit()
    assert family.path == "/inscription/compte-active", family.page.url
    assert "Votre compte a été activé avec succès" in family.text()
    assert "j.petit" in family.text()
