"""Issue 21, point 10 in Chromium at 390 px: a whole birth date typed or pasted in J4's day
box fills the three boxes (and, JavaScript off, the server splits it); /connexion for a
signed-in family shows who is signed in. Screenshots go to var/e2e/."""
from __future__ import annotations

from idp.config import PROJECT_ROOT
from tests.support.signup import PHONE, last_code, make_family

SHOTS = PROJECT_ROOT / "var" / "e2e"
IPHONE = {"width": 390, "height": 844}


def _to_pupils_page(family, app, served_idp):
    make_family(app)
    family.page.set_viewport_size(IPHONE)
    family.goto(served_idp.url + "/inscription")
    family.page.locator("main [name=last_name]").fill("Petit")
    family.page.locator("main [name=first_name]").fill("Jeanne")
    family.page.locator("main [name=phone]").fill("06 11 22 33 44")
    family.click("main button[type=submit]")
    family.page.locator("main [name=code]").fill(last_code(app, PHONE))
    family.click("main button[type=submit]")
    assert family.path == "/inscription/eleves", family.page.url


def test_a_whole_date_typed_in_the_day_box_fills_the_three(family, app, served_idp):
    _to_pupils_page(family, app, served_idp)
    family.page.locator("main input[name=link_0][value=yes]").check()
    day = family.page.locator("main [name=day_0]")
    day.click()
    family.page.keyboard.type("20/05/2013")  # typed, one key at a time
    assert day.input_value() == "20"
    assert family.page.locator("main [name=month_0]").input_value() == "05"
    assert family.page.locator("main [name=year_0]").input_value() == "2013"
    SHOTS.mkdir(parents=True, exist_ok=True)
    family.page.screenshot(path=str(SHOTS / "signup-date-boxes-390.png"), full_page=True)
    family.click("main button[type=submit]")
    assert family.path == "/inscription/mot-de-passe", family.page.url


def test_a_whole_date_without_javascript_is_split_by_the_server(family_without_js, app,
                                                                served_idp):
    family = family_without_js
    _to_pupils_page(family, app, served_idp)
    family.page.locator("main input[name=link_0][value=yes]").check()
    family.page.locator("main [name=day_0]").fill("20/05/2013")  # pasted
    family.click("main button[type=submit]")
    assert family.path == "/inscription/mot-de-passe", family.page.url


def test_connexion_when_signed_in_says_who_with_two_ways(family, make, served_idp):
    account = make.account()
    family.page.set_viewport_size(IPHONE)
    family.goto(served_idp.url + "/choisir-profil")
    family.page.get_by_label("Représentant légal", exact=True).check()
    family.page.get_by_label("Mon académie").select_option(label="Nancy-Metz")
    family.click("main button[type=submit]")
    family.submit({"Identifiant": account.identifier, "Mot de passe": account.password})
    assert family.path == "/", family.page.url
    family.goto(served_idp.url + "/connexion")  # Back from the ENT, say
    main = family.page.locator("main")
    assert account.identifier in main.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    family.page.screenshot(path=str(SHOTS / "connexion-signed-in-390.png"), full_page=True)
    family.click("main a:text-is('Changer de compte')")
    assert family.page.locator("main input[name=password]").count() == 1
    family.page.go_back()
    family.click("main a:text-is('Continuer')")
    assert family.path == "/", family.page.url


def test_sms_recovery_without_a_mobile_has_a_way_out(family, make, served_idp):
    """Point 6: the code page's "Vous n'avez pas reçu de code ?" leads to the email link."""
    account = make.account(email="sans.portable@example.org")
    family.page.set_viewport_size(IPHONE)
    family.goto(served_idp.url + "/recuperation/mot-de-passe")
    family.page.locator("main [name=identifier]").fill(account.identifier)
    family.click("main button[type=submit]")
    family.page.locator("main input[name=channel][value=sms]").check()
    family.click("main button[type=submit]")
    assert family.path == "/recuperation/mot-de-passe/code", family.page.url
    assert "Vous n'avez pas reçu de code ?" in family.text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    family.page.screenshot(path=str(SHOTS / "recovery-code-way-out-390.png"), full_page=True)
    family.click("main button:text-is('Recevoir plutôt un lien par email')")
    assert "Consultez votre messagerie" in family.text()
    assert family.path != "/recuperation/mot-de-passe/moyen"


def test_a_waiting_email_is_shown_on_mon_compte(family, make, served_idp, use_smtp):
    """Point 5: the address typed at the contact step, waiting for its link."""
    account = make.account(email=None, preferences_done=False)
    family.page.set_viewport_size(IPHONE)
    family.goto(served_idp.url + "/choisir-profil")
    family.page.get_by_label("Représentant légal", exact=True).check()
    family.page.get_by_label("Mon académie").select_option(label="Nancy-Metz")
    family.click("main button[type=submit]")
    family.submit({"Identifiant": account.identifier, "Mot de passe": account.password})
    assert family.path == "/preferences", family.page.url
    family.page.locator("main [name=email]").fill("nouvelle.adresse@example.org")
    family.click("main button[type=submit]")
    family.goto(served_idp.url + "/compte")
    text = family.page.locator("main").inner_text()
    assert "nouvelle.adresse@example.org" in text and "Aucune adresse email." not in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    family.page.screenshot(path=str(SHOTS / "account-pending-email-390.png"), full_page=True)
    family.click("main button:text-is('Renvoyer le lien')")
    assert "Un nouveau lien de confirmation a été envoyé" in family.text()
