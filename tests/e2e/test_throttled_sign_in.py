"""Issue 21, point 1 in Chromium at 390 px: a throttled sign-in says so beside the field,
with the wait and "Mot de passe oublié ?" (screenshot under var/e2e/)."""
from __future__ import annotations

from idp.config import PROJECT_ROOT


def test_a_throttled_sign_in_says_so(family, make, served_idp):
    account = make.account()
    family.page.set_viewport_size({"width": 390, "height": 844})
    family.goto(served_idp.url + "/choisir-profil")
    family.page.get_by_label("Représentant légal", exact=True).check()
    family.page.get_by_label("Mon académie").select_option(label="Nancy-Metz")
    family.click("main button[type=submit]")
    for _ in range(5):
        family.submit({"Identifiant": account.identifier, "Mot de passe": "Wrong-Pass-2026"})
        assert "Identifiant ou mot de passe incorrect." in family.text()
    family.submit({"Identifiant": account.identifier, "Mot de passe": account.password})
    text = family.page.locator("main").inner_text()
    assert "la connexion est suspendue" in text and "Réessayez dans" in text
    assert family.page.locator("main a[href='/recuperation/mot-de-passe']").is_visible()
    assert family.page.locator("main input[name=identifier]").input_value() == account.identifier
    (PROJECT_ROOT / "var" / "e2e").mkdir(parents=True, exist_ok=True)
    family.page.screenshot(path=str(PROJECT_ROOT / "var" / "e2e" / "sign-in-throttled-390.png"),
                           full_page=True)
