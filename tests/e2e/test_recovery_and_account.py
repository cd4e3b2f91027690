"""J6 in Chromium: a forgotten password renewed with the SMS code read from the outbox,
the forgotten-identifier page, then "Mon compte" and its forms. Each form's error state
(empty, wrong value, double submit); every page audited (see conftest)."""
from __future__ import annotations

from idp.db import db
from idp.models import Account
from tests.support.signup import PHONE, last_code

NEW = "Gomme-Bleue-2027!"


def _field(family, name: str):
    return family.page.locator(f"main form:has([name={name}]) [name={name}]").first


def _with_phone(app, make):
    made = make.account(identifier="c.martin")
    with app.app_context():
        db.session.get(Account, made.id).phone = PHONE
        db.session.commit()
    return made


def test_forgotten_password_by_sms_then_my_account(family, app, make, served_idp):
    made = _with_phone(app, make)
    base = served_idp.url
    family.goto(base + "/recuperation/identifiant")
    family.click("main form >> nth=0 >> button[type=submit]")  # empty email form
    assert family.page.locator(".error-summary").is_visible()

    family.goto(base + "/recuperation/mot-de-passe")
    family.click("main button[type=submit]")  # empty
    assert family.page.locator(".error-summary").is_visible()
    _field(family, "identifier").fill(made.identifier)
    family.double_submit()
    assert family.path == "/recuperation/mot-de-passe/moyen", family.page.url
    family.click("main button[type=submit]")  # no channel chosen
    assert family.page.locator(".error-summary").is_visible()
    family.page.locator("main input[name=channel][value=sms]").check()
    family.click("main button[type=submit]")
    assert family.path == "/recuperation/mot-de-passe/code", family.page.url

    code = last_code(app, PHONE)
    _field(family, "code").fill("000000" if code != "000000" else "111111")  # wrong
    family.click("main form:has([name=code]) button[type=submit]")
    assert "Code incorrect" in family.text()
    _field(family, "code").fill(code)
    family.click("main form:has([name=code]) button[type=submit]")
    assert family.path == "/recuperation/mot-de-passe/nouveau", family.page.url

    family.click("main button[type=submit]")  # empty
    assert family.page.locator(".error-summary").is_visible()
    _field(family, "password").fill(NEW)
    _field(family, "password_confirm").fill(NEW + "x")  # not the same
    family.click("main button[type=submit]")
    assert "ne sont pas identiques" in family.text()
    assert family.page.locator("main [aria-invalid=true]").count() >= 1
    _field(family, "password").fill(NEW)
    _field(family, "password_confirm").fill(NEW)
    family.double_submit()
    assert "Votre mot de passe a été changé" in family.text(), family.text()[:500]

    # Signed in with the new password: "Mon compte" and its forms.
    family.goto(base + "/choisir-profil")
    family.page.get_by_label("Représentant légal", exact=True).check()
    family.page.get_by_label("Mon académie").select_option(label="Nancy-Metz")
    family.click("main button[type=submit]")
    family.submit({"Identifiant": made.identifier, "Mot de passe": NEW})
    family.goto(base + "/compte")
    assert family.path == "/compte"
    family.goto(base + "/compte/mot-de-passe")
    if family.path == "/compte/confirmer-mot-de-passe":
        family.click("main button[type=submit]")  # empty
        assert family.page.locator(".error-summary").is_visible()
        _field(family, "password").fill(NEW)
        family.click("main button[type=submit]")
    assert family.path == "/compte/mot-de-passe", family.page.url
    family.click("main button[type=submit]")  # empty
    assert family.page.locator(".error-summary").is_visible()
    for path in ("/compte/email", "/compte/telephone"):
        family.goto(base + path)
        assert family.path == path, family.page.url
        family.click("main button[type=submit]")  # empty
        assert family.page.locator(".error-summary").is_visible(), path
    _field(family, "phone").fill("12")  # wrong value
    family.click("main button[type=submit]")
    assert _field(family, "phone").get_attribute("aria-invalid") == "true"
