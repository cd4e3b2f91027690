"""The console in Chromium: TOTP enrolment with the QR code, then every console page and
its form error states, each audited by axe at desktop width and 320 px, under the CSP
(see conftest: a violation, a serious axe finding or sideways scrolling fails)."""
from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from idp.admin.staff import create_staff
from idp.config import PROJECT_ROOT
from idp.db import db
from idp.models import Account, OIDCClient, RosterImport, SAMLServiceProvider
from idp.saml.registry import register_sp
from tests.support.admin import SCHOOL_A, STAFF_PASSWORD, sp_metadata, two_schools


def _seed(app, make) -> dict:
    ids = two_schools(app, make)
    rp = make.oidc_client(name="ENT du collège", redirect_uris=["https://ent.example/cb"])
    with app.app_context():
        register_sp(metadata=sp_metadata(name="Téléservices"), attributes="teleservices")
        create_staff(identifier="ops.e2e", password=STAFF_PASSWORD, role="operator")
        db.session.commit()
        sp_id = db.session.scalar(select(SAMLServiceProvider.id))
        import_id = db.session.scalar(select(RosterImport.id).order_by(RosterImport.id))
        lea = db.session.scalar(select(Account.id).where(Account.identifier == "l.martin"))
    return {"client_id": rp.client_id, "sp_id": sp_id, "import_id": import_id, "lea": lea,
            "ids": ids}


def test_operator_enrols_and_walks_through_the_console(app, make, served_idp, family):
    seed = _seed(app, make)
    base = served_idp.url
    family.goto(base + "/admin/")  # no session: the sign-in page
    assert family.path == "/admin/connexion"
    family.click("main button[type=submit]")  # empty: errors beside the fields
    assert "Saisissez votre identifiant" in family.text()
    family.submit({"Identifiant": "ops.e2e", "Mot de passe": STAFF_PASSWORD})
    assert family.path == "/admin/connexion/enrolement"
    assert family.page.locator("figure.qr svg").count() == 1
    secret = re.search(r"[A-Z2-7]{32}", family.page.inner_text("code.secret")).group(0)
    family.submit({"Code à 6 chiffres": "000000"})  # wrong code: the error state
    assert "ne correspond pas" in family.text()
    family.submit({"Code à 6 chiffres": pyotp.TOTP(secret).now()})
    assert "codes de secours" in family.text()
    family.click("main a.button")
    assert family.path == "/admin/"

    school = f"/admin/etablissements/{SCHOOL_A}"
    for path in ["/admin/services", f"/admin/services/oidc/{seed['client_id']}",
                 "/admin/services/saml/nouveau", f"/admin/services/saml/{seed['sp_id']}",
                 "/admin/cles", "/admin/chartes", "/admin/journal",
                 "/admin/journal?action=staff_*", "/admin/etablissements", school,
                 f"{school}/comptes?q=martin", f"{school}/comptes/{seed['lea']}",
                 f"{school}/comptes/{seed['lea']}/courrier",
                 f"{school}/imports/{seed['import_id']}"]:
        response = family.goto(base + path)
        assert response.status == 200, path
        if path.endswith("/courrier"):  # "Nouveau courrier": asked first (issue 21, 3)
            family.page.screenshot(path=str(PROJECT_ROOT / "var" / "e2e"
                                            / "console-new-letter-confirm.png"),
                                   full_page=True)

    # A form with bad input: the reason beside the field, the error summary on top.
    family.goto(base + "/admin/services/oidc/nouveau")
    family.page.get_by_label("Nom affiché aux familles", exact=True).fill("ENT du collège")
    family.page.get_by_label("Adresses de retour (une par ligne, exactes)").fill(
        "http://ent.example/cb")
    family.click("main form.card button[type=submit]")
    text = family.text()
    assert "Un service porte déjà ce nom" in text and "http n'est permis que pour localhost" in text
    assert family.page.locator(".error-summary").is_visible()
    with app.app_context():
        assert db.session.scalar(select(OIDCClient).where(OIDCClient.name != "ENT du collège")) is None
