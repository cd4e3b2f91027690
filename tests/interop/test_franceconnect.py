"""Issue 19: « S'identifier avec FranceConnect », over real HTTP between three kinds of
process: the IdP under gunicorn, the FranceConnect stand-in (clients/franceconnect.py),
and a parent's browser (requests). The school records are the demo's (Nadia Benali,
+33 6 12 34 56 78, Yanis 12/10/2013 and Sarah 04/07/2010)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.admin.demo import load_demo
from idp.db import db
from idp.models import (Account, AuditEvent, FranceConnectLink, GuardianLink,
                        RepresentativeRecord)
from tests.support.franceconnect import (NADIA_PHONE, FranceConnectFamily,  # noqa: F401
                                         franceconnect_idp, form_index)
from tests.support.signup import plain

pytestmark = pytest.mark.interop


@pytest.fixture
def demo(app):
    with app.app_context():
        summary = load_demo()
        db.session.commit()
    return summary


@pytest.fixture
def family(app, franceconnect_idp, demo):
    franceconnect_idp.switch("ok")
    return FranceConnectFamily(app, franceconnect_idp)


def _links(app) -> list[FranceConnectLink]:
    with app.app_context():
        return list(db.session.scalars(select(FranceConnectLink)))


def _audited(app, action: str) -> list[dict]:
    with app.app_context():
        return [e.details for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action))]


def test_first_link_then_straight_through_then_logout_reaches_franceconnect(app, family):
    page = family.choose_parent()
    assert "S'identifier avec FranceConnect" in plain(page)
    assert "Qu'est-ce que FranceConnect ?" in plain(page)
    # The button's POST is followed by a redirect to FranceConnect: form-action allows it.
    form_action = page.headers["Content-Security-Policy"].split("form-action")[1].split(";")[0]
    assert family.setup.fc.url in form_action.split()
    family.click_button()
    assert family.browser.url.startswith(family.setup.fc.url + "/api/v2/authorize")
    assert "acr_values=eidas1" in family.browser.url
    family.pick("nadia")
    page = family.first_link()
    # Linked and signed in: the sign-in plan goes on (charter, preferences), then home.
    page = family.browser.through_steps()
    assert family.path == "/", (family.browser.url, page.text[:500])
    [link] = _links(app)
    assert link.created_account and link.birthplace == "75056"
    with app.app_context():
        account = db.session.get(Account, link.account_id)
        assert (account.first_name, account.last_name) == ("Nadia", "Benali")
        assert str(account.birth_date) == "1984-05-17" and account.phone == NADIA_PHONE
        rep = db.session.scalar(select(RepresentativeRecord).where(
            RepresentativeRecord.phone == NADIA_PHONE))
        assert rep.account_id == account.id
        assert db.session.scalar(select(func.count()).select_from(GuardianLink).where(
            GuardianLink.guardian_id == account.id)) == 2
    assert _audited(app, "franceconnect_linked")[0]["mode"] == "created"

    # Mon compte: names and birth date from FranceConnect, read-only; no password yet.
    text = plain(family.open("/compte"))
    assert "viennent de FranceConnect" in text and "17/05/1984" in text
    assert "Choisir un mot de passe" in text and "Délier FranceConnect" not in text

    # Logout ends the FranceConnect session too (session/end with id_token_hint, state).
    family.open("/")
    family.browser.submit(index=form_index(family.browser.page, "/deconnexion"))
    assert family.path == "/deconnecte", family.browser.url
    [logout] = family.setup.logouts()[-1:]
    assert logout["sub"] == link.sub and len(logout["state"]) >= 32
    assert logout["post_logout_redirect_uri"].endswith("/franceconnect/deconnexion")
    assert family.browser.visited("/franceconnect/deconnexion")

    # Next time: straight through, no phone, no SMS, no birth dates.
    family.browser.history.clear()
    family.sign_in("nadia")
    family.browser.through_steps()
    assert not family.browser.visited("/franceconnect/telephone")
    assert family.path == "/", family.browser.url
    assert len(_links(app)) == 1


def test_sso_to_the_ent_and_teleservices_after_franceconnect(app, franceconnect_idp,
                                                             monkeypatch, tmp_path):
    from tests.support.served import demo_relying_parties

    franceconnect_idp.switch("ok")
    with demo_relying_parties(app, franceconnect_idp.idp, monkeypatch, tmp_path) as (urls, _):
        family = FranceConnectFamily(app, franceconnect_idp)
        family.choose_parent()
        family.browser.open(urls["ENT"] + "/")
        family.browser.submit()  # « Se connecter avec Connexion Scolarité »
        assert family.path == "/connexion", family.browser.url
        family.click_button()
        family.pick("nadia")
        family.first_link()
        page = family.browser.through_steps()
        assert family.browser.url == urls["ENT"] + "/", (family.browser.url, page.text[:3000])
        assert "Bonjour Nadia Benali" in page.text and "Yanis" in page.text

        family.browser.history.clear()
        family.browser.open(urls["Téléservices"] + "/")
        family.browser.submit()
        page = family.browser.through_steps()
        assert not family.browser.visited("/connexion"), "asked to sign in again"
        if "SAMLResponse" in page.text:  # the POST binding's page (posted by script)
            page = family.browser.submit()
        assert not family.browser.visited("/franceconnect/connexion")
        assert family.browser.url.startswith(urls["Téléservices"]), family.browser.url
        assert "Benali" in page.text

        # RP-initiated logout from the ENT ends the FranceConnect session too.
        before = len(franceconnect_idp.logouts())
        family.browser.open(urls["ENT"] + "/")
        family.browser.submit()  # « Se déconnecter »
        page = family.browser.submit()  # « Me déconnecter » on the IdP's page
        assert len(franceconnect_idp.logouts()) == before + 1
        assert family.browser.visited("/franceconnect/deconnexion")
        assert "Votre session est fermée dans ce service" in page.text, (family.browser.url,
                                                                         page.text[:500])


def _unavailable(family, page):
    assert page.status_code == 503, (page.status_code, page.text[:500])
    text = plain(page)
    assert "FranceConnect est indisponible" in text
    assert 'name="password"' in page.text and 'name="identifier"' in page.text


@pytest.mark.parametrize("mode", ["error500", "timeout", "garbage", "malformed_id_token"])
def test_franceconnect_down_slow_or_garbage_keeps_the_password_form(app, family, mode):
    family.setup.switch(mode)
    page = family.sign_in("nadia")
    _unavailable(family, page)
    assert not _links(app)


@pytest.mark.parametrize("mode, reason", [
    ("wrong_acr", "acr"), ("wrong_issuer", "issuer"), ("wrong_audience", "audience"),
    ("unknown_key", "unknown_key"), ("wrong_nonce", "nonce")])
def test_untrusted_answers_are_refused_audited_and_link_nothing(app, family, mode, reason):
    family.setup.switch(mode)
    page = family.sign_in("nadia")
    assert page.status_code == 400, (page.status_code, page.text[:500])
    assert "Connexion avec FranceConnect refusée" in plain(page)
    assert not family.browser.visited("/franceconnect/telephone")
    assert {"reason": reason} in _audited(app, "franceconnect_refused")
    assert not _links(app)
    assert family.open("/compte") is not None and family.path != "/compte"  # not signed in


def test_state_mismatch_and_replayed_code_are_refused(app, family):
    family.sign_in("nadia", stop_at=family.setup.idp.url + "/franceconnect/retour")
    callback = family.browser.url
    assert "code=" in callback and "state=" in callback
    forged = callback.replace("state=", "state=x")
    page = family.browser.open(forged)
    assert page.status_code == 400
    assert {"reason": "state"} in _audited(app, "franceconnect_refused")
    # The real answer still works once...
    family.browser.open(callback)
    assert family.path == "/franceconnect/telephone"
    # ...and never twice: the state is spent.
    assert family.browser.open(callback).status_code == 400
    # The same code under a new flow's state: FranceConnect refuses the replay.
    family.choose_parent()
    family.click_button()
    family.pick("nadia", stop_at=family.setup.idp.url + "/franceconnect/retour")
    fresh_state = family.browser.url.split("state=")[1].split("&")[0]
    old_code = callback.split("code=")[1].split("&")[0]
    page = family.browser.open(family.setup.idp.url + "/franceconnect/retour?code="
                               + old_code + "&state=" + fresh_state)
    assert page.status_code == 400
    assert {"reason": "token_invalid_grant"} in _audited(app, "franceconnect_refused")
    assert not _links(app)


def test_an_identity_matching_no_representative_gets_what_to_do(app, family):
    family.sign_in("abroad")  # Karim Haddad: the number and children are Nadia's
    page = family.first_link()
    assert family.path == "/franceconnect/arret", family.browser.url
    text = plain(page)
    assert "Aucun compte n'a été créé ni modifié" in text
    assert "Je n'ai pas de compte" in text and "courrier" in text
    assert {"reason": "no_match"} in _audited(app, "franceconnect_link_refused")
    assert not _links(app)
    with app.app_context():
        assert db.session.scalar(select(RepresentativeRecord.account_id).where(
            RepresentativeRecord.phone == NADIA_PHONE)) is None


def test_an_identity_matching_two_representatives_is_sent_to_the_school(app, family):
    from idp.models import RecordGuardianLink
    with app.app_context():
        rep = db.session.scalar(select(RepresentativeRecord).where(
            RepresentativeRecord.phone == NADIA_PHONE))
        twin = RepresentativeRecord(academy_code=rep.academy_code, match_key=rep.match_key
                                    + "|2", first_name="NADIA", last_name="BENALI",
                                    phone=NADIA_PHONE)
        db.session.add(twin)
        db.session.flush()
        for link in db.session.scalars(select(RecordGuardianLink).where(
                RecordGuardianLink.representative_record_id == rep.id)).all():
            db.session.add(RecordGuardianLink(pupil_record_id=link.pupil_record_id,
                                              representative_record_id=twin.id))
        db.session.commit()
    family.sign_in("nadia")
    page = family.first_link()
    assert family.path == "/franceconnect/arret"
    assert "plusieurs représentants légaux" in plain(page)
    assert {"reason": "ambiguous"} in _audited(app, "franceconnect_link_refused")
    assert not _links(app)


@pytest.mark.parametrize("identity, first, last, birthdate, birthplace, birthcountry", [
    ("presumed", "Sophie", "Martin", "1981-01-01", "69123", "99100"),   # presumed date
    ("abroad", "Karim", "Haddad", "1978-03-09", "", "99350"),           # born in Morocco
    ("corsica", "Marie-Ange", "Santoni", "1985-11-30", "2A004", "99100"),
    # FranceConnect: "HÉLÈNE JOSÉPHINE" "LE GALL-HERVÉ"; the school wrote it another way.
    ("accents", "Helene", "le Gall Hervé", "1982-08-21", "29019", "99100"),
])
def test_test_identities_link_to_their_school_record(app, make, family, identity, first,
                                                     last, birthdate, birthplace,
                                                     birthcountry):
    from datetime import date
    made = make.record_family(first_name=first, last_name=last, phone="+33698765432",
                              pupils=(("Lou", last, date(2014, 2, 3), "0540042A"),))
    family.sign_in(identity)
    family.first_link(phone="06 98 76 54 32", sms_phone="+33698765432",
                      dates=(("yes", "03", "02", "2014"),))
    family.browser.through_steps()
    assert family.path == "/", family.browser.url
    [link] = _links(app)
    assert (str(link.birthdate), link.birthplace, link.birthcountry) == (
        birthdate, birthplace, birthcountry)
    with app.app_context():
        account = db.session.get(Account, link.account_id)
        assert str(account.birth_date) == birthdate
        assert db.session.get(RepresentativeRecord, made.record_id).account_id == account.id


def _to_the_password_of_an_existing_account(app, make, family, identifier: str):
    """Nadia already has an account (its password: Ancien-Mot-2026!): her first link
    through FranceConnect reaches the page that asks for it."""
    from idp.extensions import passwords
    made = make.record_family(first_name="Nadia", last_name="Benali", phone="+33698765432",
                              with_active_account=True, identifier=identifier,
                              pupils=(("Lou", "Benali", __import__("datetime").date(
                                  2014, 2, 3), "0540042A"),))
    with app.app_context():
        db.session.get(Account, made.account_id).password_hash = passwords().hash(
            "Ancien-Mot-2026!")
        db.session.commit()
    family.sign_in("nadia")
    page = family.first_link(phone="06 98 76 54 32", sms_phone="+33698765432",
                             dates=(("yes", "03", "02", "2014"),))
    assert family.path == "/franceconnect/mot-de-passe", family.browser.url
    return made, page


def test_an_existing_account_is_linked_after_its_password(app, make, family):
    made, page = _to_the_password_of_an_existing_account(app, make, family, "n.benali7")
    assert "n.benali7" in plain(page)
    page = family.browser.submit({"password": "pas le bon"})
    assert page.status_code == 400 and "Mot de passe incorrect" in plain(page)
    assert not _links(app)
    family.browser.submit({"password": "Ancien-Mot-2026!"})
    family.browser.through_steps()
    assert family.path == "/", family.browser.url
    [link] = _links(app)
    assert link.account_id == made.account_id and not link.created_account
    assert _audited(app, "franceconnect_linked")[0]["mode"] == "existing"


def test_the_password_page_says_wait_while_the_throttle_holds(app, make, family):
    """The existing account's password under the sign-in throttle: while it holds, the
    page says « Trop d'essais… Réessayez dans N secondes », not "incorrect", even for the
    right password, and the try does not count toward the journey's own stop."""
    _to_the_password_of_an_existing_account(app, make, family, "n.benali8")
    with app.app_context():  # someone guessed from this address: a wait of minutes
        for _ in range(10):
            app.extensions["idp"]["throttle"].record_failure("127.0.0.1", "n.benali8")
        db.session.commit()  # the lockout's audit row
    for _ in range(4):  # more tries than the journey's own limit: none counts
        page = family.browser.submit({"password": "Ancien-Mot-2026!"})
        assert page.status_code == 400 and "Trop d'essais" in plain(page)
        assert "Mot de passe incorrect" not in plain(page)
    assert family.path == "/franceconnect/mot-de-passe" and not _links(app)


def test_the_jwks_is_kept_and_fetched_again_for_a_new_key(app, family):
    family.sign_in("nadia")
    family.first_link()
    family.browser.through_steps()
    assert family.setup.stats()["jwks"] >= 1
    fetched = family.setup.stats()["jwks"]
    fresh = FranceConnectFamily(app, family.setup)
    fresh.sign_in("nadia")
    fresh.browser.through_steps()
    assert fresh.path == "/" and family.setup.stats()["jwks"] == fetched  # from the store
    family.setup.rotate()  # FranceConnect signs with a new key: its kid is unknown here
    third = FranceConnectFamily(app, family.setup)
    third.sign_in("nadia")
    third.browser.through_steps()
    assert third.path == "/", third.browser.url
    assert family.setup.stats()["jwks"] == fetched + 1


def test_a_linked_account_closed_by_the_school_is_told_so(app, family):
    from idp.models import AccountState
    family.sign_in("nadia")
    family.first_link()
    [link] = _links(app)
    with app.app_context():
        db.session.get(Account, link.account_id).state = AccountState.deactivated
        db.session.commit()
    again = FranceConnectFamily(app, family.setup)
    page = again.sign_in("nadia")
    assert page.status_code == 403 and "Votre compte est désactivé" in plain(page)


def test_a_mistyped_number_can_be_corrected_from_the_code_page(app, family):
    from tests.support.signup import sms_to
    family.sign_in("nadia")
    family.browser.submit({"phone": "06 00 00 00 01", "region": "FR"})
    assert family.path == "/franceconnect/code"  # the same page: nothing tells it apart
    assert not sms_to(app, "+33600000001")       # ...but no record holds it: no SMS
    page = family.open("/franceconnect/telephone")  # « Modifier le numéro »
    assert page.status_code == 200 and 'name="phone"' in page.text
    page = family.first_link()
    family.browser.through_steps()
    assert family.path == "/" and len(_links(app)) == 1


def test_an_account_without_password_confirms_with_franceconnect(app, family):
    """Mon compte's sensitive pages ask again after the re-authentication window: an
    account made through FranceConnect (no password) confirms with FranceConnect, then
    may choose a password."""
    import time

    from tests.support.franceconnect import REAUTH_SECONDS
    family.sign_in("nadia")
    family.first_link()
    family.browser.through_steps()
    time.sleep(REAUTH_SECONDS + 0.2)
    page = family.open("/compte/email")
    assert family.path == "/compte/confirmer-mot-de-passe", family.browser.url
    assert "Confirmer avec FranceConnect" in plain(page)
    family.browser.submit(index=form_index(page, "/franceconnect/connexion"))
    family.pick("nadia")
    assert family.path == "/compte/email", family.browser.url
    assert {"method": "fc"} in _audited(app, "reauthenticated")

    page = family.open("/franceconnect/compte/mot-de-passe")
    assert 'name="password_confirm"' in page.text, page.text[:500]
    family.browser.submit({"password": "Cartable-Rouge-2031!",
                           "password_confirm": "Cartable-Rouge-2031!"})
    assert family.path == "/compte"
    assert "Délier FranceConnect" in plain(family.browser.page)


def test_sign_out_everywhere_ends_the_franceconnect_session_too(app, family):
    family.sign_in("nadia")
    family.first_link()
    family.browser.through_steps()
    before = len(family.setup.logouts())
    home = family.open("/")
    family.browser.submit(index=form_index(home, "/deconnexion-partout"))
    assert family.path == "/deconnecte", family.browser.url
    assert len(family.setup.logouts()) == before + 1


def test_a_pupil_declined_is_recorded_for_the_school(app, family):
    from idp.models import DeclinedGuardianLink
    family.sign_in("nadia")
    family.first_link(dates=(("yes", "12", "10", "2013"), ("no", "", "", "")))
    family.browser.through_steps()
    [link] = _links(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GuardianLink).where(
            GuardianLink.guardian_id == link.account_id)) == 1
        [declined] = db.session.scalars(select(DeclinedGuardianLink)).all()
        assert declined.account_id == link.account_id


def test_the_demo_family_with_accented_names_links(app, family):
    """`idp demo load`'s second family: FranceConnect says « HÉLÈNE JOSÉPHINE »
    « LE GALL-HERVÉ », the school wrote « Hélène » « Le Gall-Hervé »."""
    family.sign_in("accents")
    family.first_link(phone="06 45 67 89 12", sms_phone="+33645678912",
                      dates=(("yes", "03", "02", "2014"),))
    family.browser.through_steps()
    assert family.path == "/", family.browser.url
    [link] = _links(app)
    assert (link.given_name, link.family_name) == ("HÉLÈNE JOSÉPHINE", "LE GALL-HERVÉ")
    with app.app_context():
        load_demo()  # loading the demo again makes the family new again
        db.session.commit()
    assert not _links(app)


def test_teleservices_own_logout_ends_the_franceconnect_session_too(app, franceconnect_idp,
                                                                   monkeypatch, tmp_path):
    """SAML SP-initiated logout: the IdP session ends, FranceConnect's session/end is
    visited, then the Téléservices get their LogoutResponse."""
    from tests.support.served import demo_relying_parties

    franceconnect_idp.switch("ok")
    with demo_relying_parties(app, franceconnect_idp.idp, monkeypatch, tmp_path) as (urls, _):
        family = FranceConnectFamily(app, franceconnect_idp)
        family.choose_parent()
        family.browser.open(urls["Téléservices"] + "/")
        family.browser.submit()
        assert family.path == "/connexion", family.browser.url
        family.click_button()
        family.pick("nadia")
        family.first_link()
        page = family.browser.through_steps()
        if "SAMLResponse" in page.text:
            page = family.browser.submit()
        assert family.browser.url.startswith(urls["Téléservices"]) and "Benali" in page.text
        before = len(franceconnect_idp.logouts())
        page = family.browser.submit()  # « Se déconnecter » at the Téléservices
        assert len(franceconnect_idp.logouts()) == before + 1
        assert family.browser.visited("/franceconnect/deconnexion")
        assert family.browser.url.startswith(urls["Téléservices"]), family.browser.url
        assert page.status_code == 200, page.text[:500]
        assert "Benali" not in family.browser.open(urls["Téléservices"] + "/").text
        assert family.open("/compte") is not None and family.path != "/compte"
