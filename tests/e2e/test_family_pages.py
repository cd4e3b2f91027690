"""Issue 20's pages in Chromium, each audited by axe at desktop width and 320 px under the
CSP (see conftest: a violation, a serious axe finding or sideways scrolling fails):
"Mes enfants" and its actions, "Ajouter un enfant" (both ways), "Fusionner deux comptes",
"Mes données"; the school's dashboard, a list, the search, the bulk-letter confirmation."""
from __future__ import annotations

from tests.support.admin import SCHOOL_A, make_staff, two_schools


def _sign_in(family, base, identifier, password):
    family.goto(base + "/choisir-profil")
    family.page.get_by_label("Représentant légal", exact=True).check()
    family.page.get_by_label("Mon académie").select_option(label="Nancy-Metz")
    family.click("main button[type=submit]")
    family.submit({"Identifiant": identifier, "Mot de passe": password})


def test_my_children_and_my_data(family, app, make, served_idp):
    parent = make.account(with_pupils=2)
    base = served_idp.url
    _sign_in(family, base, parent.identifier, parent.password)
    family.goto(base + "/compte")
    family.click("main a[href='/compte/enfants']")
    assert family.path == "/compte/enfants" and "Enfant0 Martin" in family.text()
    family.click("main form[action$='/identifiant'] button >> nth=0")
    assert parent.pupils[0].identifier in family.text()
    family.goto(base + "/compte/enfants")
    family.click("main form[action$='/mot-de-passe'] button >> nth=0")
    assert "Donner un mot de passe provisoire à Enfant0 Martin ?" in family.text()
    family.click("main form[action$='/mot-de-passe'] button[type=submit]")  # « Confirmer »
    assert "il ne sera plus affiché" in family.text()

    family.goto(base + "/compte/enfants/ajouter")
    family.click("main button[type=submit]")  # empty: errors beside the fields
    assert family.page.locator(".error-summary").is_visible()
    family.submit({"Identifiant indiqué sur le courrier": "z.personne9",
                   "Mot de passe provisoire du courrier": "Abcd-Efgh-Jkmn"})
    assert "Identifiant ou mot de passe provisoire incorrect" in family.text()
    family.goto(base + "/compte/enfants/ajouter/sms")
    family.submit({"Numéro de téléphone portable connu de l'autre établissement": "06 12"})
    assert family.page.locator(".error-summary").is_visible()

    family.goto(base + "/compte/fusionner")
    family.submit({"Identifiant de votre autre compte": parent.identifier,
                   "Mot de passe de votre autre compte": parent.password})
    assert "C'est l'identifiant du compte utilisé en ce moment" in family.text() \
        or "Cochez la case" in family.text()

    family.goto(base + "/compte/mes-donnees")
    assert "Télécharger mes données" in family.text() and "Fermer mon compte" in family.text()
    family.click("main form[action='/compte/fermer'] button[type=submit]")  # box unticked
    assert "Cochez la case" in family.text()


def test_the_school_dashboard(family, app, make, served_idp):
    two_schools(app, make)
    staff = make_staff(app, "ecole.e2e", role="school_staff", schools=[SCHOOL_A])
    base = served_idp.url
    family.goto(base + "/admin/connexion")
    family.submit({"Identifiant": staff.identifier, "Mot de passe": staff.password})
    family.submit({"Code à 6 chiffres": staff.code()})
    school = f"/admin/etablissements/{SCHOOL_A}"
    for path in [f"{school}/tableau", f"{school}/tableau/liste?classe=4e+B",
                 f"{school}/tableau/liste?q=martin&etat=never_activated",
                 f"{school}/tableau/liste?q=personne",
                 f"{school}/tableau/courriers?classe=6e+A"]:
        response = family.goto(base + path)
        assert response.status == 200, path
    assert "concernent 3 comptes jamais activés" in family.text()  # Hugo and his parents
