"""Issue 21, point 3: "Nouveau courrier" for one account asks first, says what it will do
to an account in use, and keeps what should not change: a confirmed email stays confirmed
(the family keeping it activates at once), and the state shown is true."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest

from idp.db import db
from idp.models import Account, AccountState

from ..support.accounts import update_account
from ..support.admin import SCHOOL_A, console_sign_in, make_staff, two_schools
from ..support.browser import Browser, csrf_token
from .test_admin_schools import pdf_pages

BASE = f"/admin/etablissements/{SCHOOL_A}"
EMAIL = "julien.martin@example.org"
NEW_PASSWORD = "Cartable-Vert-2026"


@pytest.fixture
def staff(app, browser, make):
    ids = two_schools(app, make)
    console_sign_in(browser, make_staff(app, "ecole.dan", role="school_staff",
                                        schools=[SCHOOL_A]))
    julien = ids["j.martin"]
    update_account(app, julien, state=AccountState.active, email=EMAIL, email_verified=True,
                   activated_at=datetime(2026, 9, 1, tzinfo=timezone.utc))
    return browser, julien


def text(page) -> str:
    return html.unescape(page.text)


def row(app, account_id) -> Account:
    with app.app_context():
        return db.session.get(Account, account_id)


def test_a_new_letter_for_an_active_account_is_asked_for_and_explained(app, staff):
    browser, julien = staff
    page = browser.get(f"{BASE}/comptes/{julien}")
    assert f'href="{BASE}/comptes/{julien}/courrier"' in page.text  # a page, not a POST
    page = browser.get(f"{BASE}/comptes/{julien}/courrier")
    said = text(page)
    assert page.status_code == 200
    assert "Ce compte est actif : la famille s'en sert aujourd'hui." in said
    assert "Toutes les sessions ouvertes de ce compte sont fermées" in said
    assert f"L'adresse électronique {EMAIL} reste confirmée" in said
    before = row(app, julien).password_hash
    # The button alone (the box not ticked) changes nothing.
    response = browser.client.post(f"{BASE}/comptes/{julien}/courrier",
                                   data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert "Cochez la case" in text(browser.follow(response))
    kept = row(app, julien)
    assert kept.state == AccountState.active and kept.password_hash == before
    # Ticked: the letter, and only the password changes.
    page = browser.get(f"{BASE}/comptes/{julien}/courrier")
    response = browser.client.post(f"{BASE}/comptes/{julien}/courrier", data={
        "csrf_token": csrf_token(page.text), "confirme": "oui"})
    [letter] = pdf_pages(response)
    after = row(app, julien)
    assert after.state == AccountState.provisional and after.email_verified
    assert after.email == EMAIL
    shown = text(browser.get(f"{BASE}/comptes/{julien}"))
    assert "provisoire (nouveau courrier remis, pas encore reconnecté)" in shown
    assert "jamais connecté" not in shown
    assert "(confirmée)" in shown


def test_the_family_keeping_its_confirmed_email_is_active_at_once(app, staff):
    browser, julien = staff
    page = browser.get(f"{BASE}/comptes/{julien}/courrier")
    [letter] = pdf_pages(browser.client.post(f"{BASE}/comptes/{julien}/courrier", data={
        "csrf_token": csrf_token(page.text), "confirme": "oui"}))
    password = re.search(r"Mot de passe provisoire\s*:?\s*(\S+)", letter).group(1)
    family = Browser(app.test_client())
    family.choose()
    page = family.sign_in("j.martin", password, choose=False)
    assert page.request.path == "/premiere-connexion", page.text[:300]
    assert f'value="{EMAIL}"' in page.text  # the confirmed address, kept
    form = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, "email": EMAIL}
    if 'name="birth_date"' in page.text:
        with app.app_context():
            from idp.journeys.activation.service import known_birth_dates
            dates = known_birth_dates(db.session.get(Account, julien))
        form["birth_date"] = sorted(dates)[0].strftime("%d/%m/%Y")
    page = family.submit("/premiere-connexion", form)
    assert "Compte en attente de validation" not in page.text
    assert row(app, julien).state == AccountState.active
