"""The demo as a family lives it, in Chromium: WAYF -> sign-in -> charter -> preferences ->
ENT, then PRONOTE without a password (its one-time notice), then logout of both; the
first connection with the link from the email. Every page is audited (see conftest)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from idp.config import PROJECT_ROOT
from idp.notify.delivery import deliver_due
from tests.support.served import deliver_outbox

SIGN_IN = "Se connecter avec Connexion Scolarité"
NEW_PASSWORD = "Cartable-Vert-2026"


def _parent(demo) -> dict:
    return next(a for a in demo["accounts"] if a["profile"] == "parent")


def _choose_profile(family, profile="Représentant légal", academy="Nancy-Metz") -> None:
    assert family.path == "/choisir-profil", family.page.url
    # WAYF, empty: both questions are said to be missing, in the summary and beside them.
    family.click("main button[type=submit]")
    summary = family.page.locator(".error-summary")
    assert summary.is_visible() and "Choisissez votre profil" in summary.inner_text()
    assert family.page.locator("#profile .error").is_visible()
    family.page.get_by_label(profile, exact=True).check()
    family.page.get_by_label("Mon académie").select_option(label=academy)
    family.click("main button[type=submit]")


def _sign_in_with_errors(family, identifier: str, password: str) -> None:
    """The sign-in form's error states, then a double click on the right answer."""
    assert family.path == "/connexion", family.page.url
    family.click("main button[type=submit]")  # empty
    assert "Saisissez votre identifiant" in family.text()
    field = family.page.get_by_label("Identifiant", exact=True)
    assert field.get_attribute("aria-invalid") == "true"
    # The error summary links to the field.
    assert family.page.locator(".error-summary a[href='#identifier']").count() == 1
    family.submit({"Identifiant": identifier, "Mot de passe": "pas-le-bon"})  # wrong
    assert family.path == "/connexion"
    assert "incorrect" in family.text().lower()
    family.page.get_by_label("Identifiant", exact=True).fill(identifier)
    family.page.get_by_label("Mot de passe", exact=True).fill(password)
    family.double_submit()  # twice, quickly: one sign-in, no error page
    assert family.path != "/connexion", family.text()[:500]


def test_family_signs_in_at_the_ent_then_pronote_then_logs_out(family, demo, settings,
                                                              served_idp):
    parent = _parent(demo)
    family.goto(demo["ent"] + "/")
    assert SIGN_IN in family.text()
    family.click(f"text={SIGN_IN}")
    _choose_profile(family)
    _sign_in_with_errors(family, parent["identifier"], parent["password"])

    # J5 at first access: the charter (error state first), then the preferences.
    assert family.path == "/charte", family.page.url
    family.click("main button[type=submit]")
    assert family.path == "/charte" and family.page.locator(".error-summary").is_visible()
    family.page.locator("input[name=accept]").check()
    family.double_submit()
    assert family.path == "/preferences", family.page.url
    email = family.page.locator("input[name=email]")
    previous = email.input_value()
    email.fill("pas-une-adresse")  # wrong value
    family.click("main button[type=submit]")
    assert family.path == "/preferences" and email.get_attribute("aria-invalid") == "true"
    family.page.locator("input[name=email]").fill(previous)
    family.double_submit()
    if family.path == "/preferences/email-confirmee":  # an email confirmation page
        family.click("main a.button, main button[type=submit]")
    assert family.page.url == demo["ent"] + "/", family.page.url
    assert "Bonjour Marie Durand" in family.text()

    # PRONOTE: single sign-on, only its notice to acknowledge.
    family.goto(demo["pronote"] + "/")
    family.click(f"text={SIGN_IN}")
    assert family.path == "/information-service", family.page.url
    family.click("main button[type=submit]")  # not ticked
    assert family.path == "/information-service"
    assert family.page.locator(".error-summary").is_visible()
    family.page.locator("input[name=acknowledge]").check()
    family.click("main button[type=submit]")
    assert family.page.url == demo["pronote"] + "/", family.page.url
    assert "Bonjour Marie Durand" in family.text()

    # Téléservices (SAML, issue 21 point 2): its button reaches the IdP (form-action), the
    # consent page at 390 px names the service once, then the signed response comes back.
    family.goto(demo["teleservices"] + "/")
    family.click("text=Se connecter avec Connexion Scolarité")
    assert family.path == "/consentement", family.page.url
    family.page.set_viewport_size({"width": 390, "height": 844})
    main = family.page.locator("main").inner_text()
    assert main.count("Téléservices") == 1, main
    width = family.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the consent page is {width}px wide at 390px"
    family.page.screenshot(path=str(PROJECT_ROOT / "var" / "e2e" / "consent-teleservices-390.png"),
                           full_page=True)
    family.page.set_viewport_size({"width": 1280, "height": 800})
    family.click("main button#allow")
    assert family.page.url.startswith(demo["teleservices"] + "/"), family.page.url
    assert "Bonjour Marie" in family.text()
    # Mes services lists it with the ENT and PRONOTE.
    family.goto(demo["idp"] + "/")
    services = family.page.locator("ul.services").inner_text()
    assert "Téléservices" in services and "ENT" in services, services

    # Logout from the ENT, confirmed at the IdP; PRONOTE hears it through the back channel.
    family.goto(demo["ent"] + "/")
    family.click("text=Se déconnecter")
    assert urlsplit(family.page.url).path == "/oidc/logout", family.page.url
    family.click("main button[type=submit]")
    assert family.page.url.startswith(demo["ent"] + "/")
    assert "Votre session est fermée dans ce service" in family.text()
    assert deliver_outbox(settings, served_idp, "logout")["sent"] >= 1  # `idp worker`
    family.goto(demo["pronote"] + "/")
    assert SIGN_IN in family.text(), "PRONOTE still shows the family"


def test_first_connection_with_the_emailed_link(family, demo, app, use_smtp):
    letter = next(a for a in demo["accounts"] if a["profile"] == "parent"
                  and a.get("provisional"))
    family.goto(demo["idp"] + "/")
    _choose_profile(family)
    family.submit({"Identifiant": letter["identifier"], "Mot de passe": letter["password"]})
    assert family.path == "/premiere-connexion", family.page.url

    family.click("main button[type=submit]")  # empty
    assert family.page.locator(".error-summary").is_visible()
    assert family.page.locator("[aria-invalid=true]").count() >= 2
    form = family.page.locator("main form").first
    form.locator("input[name=password]").fill(NEW_PASSWORD)
    form.locator("input[name=password_confirm]").fill("Autre-Chose-2026")  # wrong value
    form.locator("input[name=email]").fill("marie.activation@example.org")
    form.locator("input[name=birth_date]").fill(letter["birth_date_to_enter"])
    family.click("main button[type=submit]")
    assert family.path == "/premiere-connexion"
    assert family.page.locator("input[name=password_confirm][aria-invalid=true]").count() == 1
    form = family.page.locator("main form").first
    form.locator("input[name=password]").fill(NEW_PASSWORD)
    form.locator("input[name=password_confirm]").fill(NEW_PASSWORD)
    family.double_submit()
    assert "Compte en attente de validation" in family.text(), family.text()[:600]

    with app.app_context():
        assert deliver_due().sent >= 1
    mail = use_smtp.wait_for(1)[-1]
    assert mail["To"] == "marie.activation@example.org"
    link = use_smtp.links(mail)[0]
    family.goto(link.replace("http://localhost", demo["idp"]))
    assert "Votre compte a été validé" in family.text()


@pytest.mark.parametrize("lang, heading", [("en", "I sign in"), ("fr", "Je me connecte")])
def test_language_switch_keeps_the_page(family, demo, lang, heading):
    family.goto(demo["idp"] + "/choisir-profil")
    if lang == "en":
        family.click("nav.lang a")
        assert family.path == "/choisir-profil"
        assert family.page.locator("html").get_attribute("lang") == "en"
    assert heading in family.page.locator("h1").inner_text()


def test_consent_page_in_english_and_error_pages(family, app, make, served_idp):
    """A third-party service (consent asked) requested in English with ui_locales; the
    page not found and an invalid request. (Consent has two buttons and nothing to type:
    its error state needs a crafted POST, see tests/functional/test_consent.py.)"""
    from urllib.parse import urlencode

    from tests.support.oidc import authorize_params, pkce_pair

    base = served_idp.url
    family.goto(base + "/pas-de-page-ici")
    assert family.page.locator("h1").inner_text()  # the IdP's own 404 page, audited
    family.goto(base + "/oidc/authorize?client_id=inconnu")
    assert family.page.locator("h1").inner_text()

    made = make.account(identifier="c.consent")
    rp = make.oidc_client(name="Cantine en ligne", trusted=False,
                          redirect_uris=["http://127.0.0.1:9/cb"])
    _, challenge = pkce_pair()
    family.goto(base + "/oidc/authorize?" + urlencode(
        authorize_params(rp, challenge=challenge, ui_locales="en")))
    assert family.page.locator("html").get_attribute("lang") == "en"
    assert family.path == "/choisir-profil"
    family.page.get_by_label("Legal guardian", exact=True).check()
    family.page.get_by_label("My academy").select_option(label="Nancy-Metz")
    family.click("main button[type=submit]")
    family.submit({"Username": made.identifier, "Password": made.password})
    assert family.path == "/consentement", family.page.url
    assert "Cantine en ligne would like to access your information" in family.text()


def test_without_javascript_double_submits_reach_the_server(family_without_js, demo):
    """No comfort.js to hold back the second click: both POSTs arrive, and each step
    still ends on one right page (no error page, no second account, no lost answer)."""
    family, parent = family_without_js, _parent(demo)
    family.goto(demo["ent"] + "/")
    family.click(f"text={SIGN_IN}")
    family.page.get_by_label("Représentant légal", exact=True).check()
    family.page.get_by_label("Mon académie").select_option(label="Nancy-Metz")
    family.double_submit()
    assert family.path == "/connexion", family.page.url
    family.page.get_by_label("Identifiant", exact=True).fill(parent["identifier"])
    family.page.get_by_label("Mot de passe", exact=True).fill(parent["password"])
    family.double_submit()
    assert family.path == "/charte", family.page.url
    family.page.locator("input[name=accept]").check()
    family.double_submit()
    assert family.path == "/preferences", family.page.url
    family.double_submit()
    if family.path == "/preferences/email-confirmee":
        family.click("main a.button, main button[type=submit]")
    assert family.page.url == demo["ent"] + "/", family.page.url
    assert "Bonjour Marie Durand" in family.text()
