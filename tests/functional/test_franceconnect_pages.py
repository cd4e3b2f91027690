"""Issue 19 in process: the button (parents only), FranceConnect unreachable at the
button, settings refused at start, "Mon compte" for a FranceConnected account (read-only
names, choose a password, Délier only with a password) and the console's origin. The
round trips with FranceConnect are in tests/interop/test_franceconnect.py."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.config import ConfigError, validate
from idp.db import db
from idp.extensions import passwords
from idp.models import Account, FranceConnectLink
from tests.support.admin import SCHOOL_A, console_sign_in, make_staff, two_schools
from tests.support.browser import csrf_token
from tests.support.served import free_port
from tests.support.signup import plain

CLOSED = f"http://127.0.0.1:{free_port()}/api/v2/.well-known/openid-configuration"


@pytest.fixture
def fc_enabled(config):
    config(FRANCECONNECT_ENABLED=True, FRANCECONNECT_DISCOVERY_URL=CLOSED,
           FRANCECONNECT_CLIENT_ID="demo-idp", FRANCECONNECT_CLIENT_SECRET="secret",
           FRANCECONNECT_TIMEOUT=1)


def test_the_button_is_for_parents_only(browser, fc_enabled):
    browser.choose("parent")
    text = plain(browser.get("/connexion"))
    assert "S'identifier avec FranceConnect" in text and "Qu'est-ce que FranceConnect ?" in text
    browser.choose("pupil")
    assert "S'identifier avec FranceConnect" not in plain(browser.get("/connexion"))


def test_no_button_when_disabled(browser):
    browser.choose("parent")
    assert "FranceConnect" not in plain(browser.get("/connexion"))


def test_franceconnect_unreachable_at_the_button_keeps_the_password_form(browser, fc_enabled):
    browser.choose("parent")
    page = browser.get("/connexion")
    response = browser.client.post("/franceconnect/connexion",
                                   data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 503
    text = plain(response)
    assert "FranceConnect est indisponible" in text
    assert 'name="password"' in response.get_data(as_text=True)


def test_a_callback_without_a_flow_is_refused(browser, fc_enabled):
    response = browser.client.get("/franceconnect/retour?code=abc&state=" + "s" * 43)
    assert response.status_code == 400
    assert "Connexion avec FranceConnect refusée" in plain(response)


def test_enabled_without_its_settings_is_refused_at_start(settings):
    with pytest.raises(ConfigError, match="IDP_FRANCECONNECT_CLIENT_SECRET"):
        validate({**settings, "FRANCECONNECT_ENABLED": True,
                  "FRANCECONNECT_DISCOVERY_URL": CLOSED, "FRANCECONNECT_CLIENT_ID": "x",
                  "FRANCECONNECT_CLIENT_SECRET": None})


def _link(app, account_id: int, *, placeholder: bool) -> None:
    with app.app_context():
        account = db.session.get(Account, account_id)
        hashed = account.password_hash
        if placeholder:
            hashed = passwords().hash("thrown-away-secret-0123456789")
            account.password_hash = hashed
        db.session.add(FranceConnectLink(
            account_id=account.id, sub="sub-" + account.identifier, given_name="Marie",
            family_name="DURAND", created_account=placeholder,
            placeholder_hash=hashed if placeholder else None, birthplace="2A004",
            birthcountry="99100"))
        db.session.commit()


def test_mon_compte_of_a_linked_account_with_a_password(app, browser, make):
    parent = make.account()
    _link(app, parent.id, placeholder=False)
    browser.sign_in(parent, steps=True)
    text = plain(browser.get("/compte"))
    assert "viennent de FranceConnect" in text and "DURAND" in text
    page = browser.get("/franceconnect/compte/delier")
    assert "Délier FranceConnect" in plain(page)
    browser.submit("/franceconnect/compte/delier", {}, page_html=page.text)
    with app.app_context():
        assert db.session.scalar(select(FranceConnectLink)) is None


def test_an_account_without_password_cannot_be_unlinked_until_one_is_chosen(app, browser,
                                                                           make, fc_enabled):
    parent = make.account()
    browser.sign_in(parent, steps=True)  # signed in (as FranceConnect would), recently
    _link(app, parent.id, placeholder=True)
    text = plain(browser.get("/compte"))
    assert "Choisir un mot de passe" in text and "Délier FranceConnect" not in text
    page = browser.get("/franceconnect/compte/delier")
    assert "Choisissez d'abord un mot de passe" in plain(page)
    token = csrf_token(browser.get("/franceconnect/compte/mot-de-passe").text)
    response = browser.client.post("/franceconnect/compte/delier", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(FranceConnectLink)) is not None
    # Choosing a password (within the re-authentication window) makes unlinking possible.
    page = browser.get("/franceconnect/compte/mot-de-passe")
    assert "Choisir un mot de passe" in plain(page)
    page = browser.submit("/franceconnect/compte/mot-de-passe",
                          {"password": "Cartable-Rouge-2031!",
                           "password_confirm": "Cartable-Rouge-2031!"}, page_html=page.text)
    assert "Délier FranceConnect" in plain(browser.get("/compte"))


def test_the_console_shows_where_an_account_comes_from(app, browser, make):
    two_schools(app, make)
    from idp.models import AccountProfile, School
    with app.app_context():
        school = db.session.scalar(select(School).where(School.uai == SCHOOL_A))
        account_id, other = db.session.scalars(select(Account.id).where(
            Account.school_id == school.id, Account.profile == AccountProfile.parent)
            .order_by(Account.id).limit(2)).all()
    _link(app, account_id, placeholder=True)
    with app.app_context():  # made through FranceConnect, not by a letter
        db.session.get(Account, account_id).issued_at = None
        db.session.commit()
    console_sign_in(browser, make_staff(app, "ecole.fc", role="school_staff",
                                        schools=[SCHOOL_A]))
    text = plain(browser.get(f"/admin/etablissements/{SCHOOL_A}/comptes/{account_id}"))
    assert "Origine du compte" in text and "FranceConnect" in text
    text = plain(browser.get(f"/admin/etablissements/{SCHOOL_A}/comptes/{other}"))
    assert "Origine du compte" in text, text[:3000]
    assert "courrier de l'établissement" in text


def test_a_roster_import_does_not_rename_a_franceconnected_account(app, make):
    """The pivot fields are read-only while linked: the school's next import (here the
    representative's names written in capitals) leaves them as FranceConnect gave them."""
    from idp.config import PROJECT_ROOT
    from idp.models import RepresentativeRecord
    from idp.roster import import_roster

    make.school(SCHOOL_A)
    sample = (PROJECT_ROOT / "config" / "samples" / "roster_sample.csv").read_bytes()
    with app.app_context():
        import_roster(SCHOOL_A, sample)
        db.session.commit()
        rep = db.session.scalar(select(RepresentativeRecord).where(
            RepresentativeRecord.first_name == "Sophie"))
        account = db.session.get(Account, rep.account_id)
        account.first_name, account.last_name = "Sophie Anne", "Martin"
        db.session.add(FranceConnectLink(account_id=account.id, sub="sub-sophie",
                                         given_name="Sophie Anne", family_name="Martin"))
        other = db.session.scalar(select(RepresentativeRecord).where(
            RepresentativeRecord.first_name == "Julien"))
        db.session.commit()
        import_roster(SCHOOL_A, sample.replace(b";Martin;Sophie;", b";MARTIN;SOPHIE;")
                      .replace(b";Martin;Julien;", b";MARTIN;JULIEN;"))
        db.session.commit()
        db.session.expire_all()
        assert (account.first_name, account.last_name) == ("Sophie Anne", "Martin")
        assert db.session.get(Account, other.account_id).last_name == "MARTIN"
