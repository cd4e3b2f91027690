"""J4 "Je n'ai pas de compte" over HTTP [seed 003]: the whole journey, from an RP's
request to its code, with the SMS read from the outbox after a real worker pass."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from idp.db import db
from idp.models import (Account, AccountState, AuditEvent, DeclinedGuardianLink,
                        GuardianLink, OutboxMessage, RepresentativeRecord)
from idp.notify.delivery import deliver_due

from ..support.browser import Browser
from ..support.oidc import query
from ..support.signup import PHONE, Signup, last_code, make_family, plain, sms_to


def account_of(app, family) -> Account:
    with app.app_context():
        rep = db.session.get(RepresentativeRecord, family.record_id)
        return db.session.get(Account, rep.account_id) if rep.account_id else None


def linked_pupils(app, account_id) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(GuardianLink.pupil_id).where(
            GuardianLink.guardian_id == account_id)))


def test_the_sign_in_page_links_to_the_journey(app, browser):
    browser.choose()
    page = browser.get("/connexion")
    assert 'href="/inscription"' in page.text and "Je n'ai pas de compte" in page.text
    page = browser.get("/inscription")
    assert page.status_code == 200
    for text in ("Je confirme mon identité", "Je renseigne mon n° de téléphone portable",
                 "Indiquez le numéro de téléphone portable communiqué à l'école",
                 "Pour les numéros hors France métropolitaine", "Précédent", "Suivant"):
        assert text in page.text, text


def test_whole_journey_from_an_rp_back_to_it(app, browser, make, flow):
    family = make_family(app)
    rp = make.oidc_client()
    page = flow.authorize(rp)
    assert page.request.path in ("/choisir-profil", "/connexion")
    signup = Signup(app, browser)
    page = signup.identity()
    assert page.request.path == "/inscription/code"
    assert "Un code de sécurité a été envoyé" in page.text
    assert "valable 10 min" in page.text and "+33 6 11 22 33 44" in page.text
    assert "Renvoyer le SMS" in page.text
    with app.app_context():  # the worker delivers it (dev outbox backend)
        assert deliver_due().sent == 1
    text = sms_to(app)[-1]
    assert "est votre code de sécurité Connexion Scolarité pour créer votre compte" in text
    page = signup.code()
    assert page.request.path == "/inscription/eleves"
    for text in ("Je confirme mon lien avec l'élève", "Lucas Petit", "Collège 0540042A",
                 "Je représente légalement cet élève",
                 "Je ne représente pas légalement cet élève", "Date de naissance",
                 "JJ", "MM", "AAAA", "Confirmer"):
        assert text in page.text, text
    page = signup.pupils(("yes", "20", "05", "2013"))
    assert page.request.path == "/inscription/mot-de-passe"
    for text in ("Doit contenir 1 majuscule", "Doit contenir 1 minuscule",
                 "Doit contenir 1 chiffre", "Doit contenir 1 caractère spécial",
                 "Doit contenir 8 caractères minimum", "Confirmation du nouveau mot de passe",
                 "js/password-strength.js"):
        assert text in page.text, text
    page = signup.password()
    assert page.request.path == "/inscription/compte-active"
    assert "Votre compte a été activé avec succès" in page.text
    account = account_of(app, family)
    assert account.state == AccountState.active and account.identifier == "j.petit"
    assert '<strong>j.petit</strong>' in page.text and "Notez votre identifiant" in page.text
    assert account.phone == PHONE and account.activated_at is not None
    assert linked_pupils(app, account.id) == set(family.pupil_account_ids)
    # "Accéder à mes services" resumes the RP's request: the code goes to the RP.
    assert 'href="/continue"' in page.text
    response = browser.get("/continue")
    response = browser.through_steps()
    assert response.status_code == 302 and response.location.startswith(rp.redirect_uri)
    tokens = flow.token(rp, query(response.location)["code"]).json
    assert tokens["access_token"]


def test_the_new_account_signs_in_with_its_identifier(app, browser, client):
    make_family(app)
    Signup(app, browser).through()
    from ..support.browser import Browser

    other = Browser(app.test_client())
    page = other.sign_in("j.petit", "Trousse-Verte-2026!")
    assert page.request.path != "/connexion", page.text[:300]


def test_without_an_rp_the_family_lands_on_its_home_page(app, browser):
    make_family(app)
    page = Signup(app, browser).through()
    page = browser.get("/continue")
    page = browser.through_steps()
    assert page.status_code == 200 and page.request.path == "/"


def test_names_match_without_case_accents_hyphens_or_spaces(app, browser):
    family = make_family(app, first_name="Jean-Marc", last_name="Le Gall-Hervé")
    page = Signup(app, browser).through(first_name="  jean marc ", last_name="LEGALL  herve")
    assert account_of(app, family).identifier == "j.legallherve"


def test_siblings_in_two_schools_of_the_academy_are_all_listed(app, browser):
    family = make_family(app, pupils=(("Lucas", "Petit", date(2013, 5, 20), "0540042A"),
                                      ("Inès", "Petit", date(2009, 1, 2), "0540099Z")))
    signup = Signup(app, browser)
    signup.identity()
    page = signup.code()
    assert "Lucas Petit" in page.text and "Inès Petit" in page.text
    assert "Collège 0540042A" in page.text and "Collège 0540099Z" in page.text
    page = signup.pupils(("yes", "20", "05", "2013"), ("yes", "02", "01", "2009"))
    assert page.request.path == "/inscription/mot-de-passe", page.text[:500]
    signup.password()
    assert linked_pupils(app, account_of(app, family).id) == set(family.pupil_account_ids)


def test_a_declined_link_is_recorded_for_the_school(app, browser, settings):
    family = make_family(app, pupils=(("Lucas", "Petit", date(2013, 5, 20), "0540042A"),
                                      ("Inès", "Petit", date(2009, 1, 2), "0540042A")))
    signup = Signup(app, browser)
    signup.identity()
    signup.code()
    # Inès comes first (page order by first name); no date is asked for a declined link.
    page = signup.pupils(("no", "", "", ""), ("yes", "20", "05", "2013"))
    assert page.request.path == "/inscription/mot-de-passe", page.text[:500]
    signup.password()
    account = account_of(app, family)
    ines_record, ines_account = family.pupil_record_ids[1], family.pupil_account_ids[1]
    assert linked_pupils(app, account.id) == {family.pupil_account_ids[0]}
    with app.app_context():
        declined = db.session.scalars(select(DeclinedGuardianLink)).all()
        assert [(d.pupil_record_id, d.account_id) for d in declined] == \
            [(ines_record, account.id)]
        assert declined[0].declined_at is not None
    from ..support.cli import run_json

    report = run_json(settings, "signup", "declined", "--uai", "0540042A")
    assert [(d["pupil"], d["representative"]) for d in report["declined"]] == \
        [("Inès Petit", "Jeanne Petit")]


def test_declining_every_pupil_stops_the_journey(app, browser):
    family = make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    signup.code()
    page = signup.pupils(("no", "", "", ""))
    assert page.request.path == "/inscription/arret"
    assert "Aucun élève n'est rattaché" in page.text
    assert account_of(app, family) is None
    with app.app_context():
        assert db.session.scalar(select(func.count(DeclinedGuardianLink.id))) == 1


def test_an_existing_account_gets_its_identifier_by_sms_not_a_second_account(app, browser):
    family = make_family(app, account_state="active", identifier="j.petit4")
    signup = Signup(app, browser)
    page = signup.identity()
    assert page.request.path == "/inscription/code"  # the same page as anyone
    texts = sms_to(app)
    assert len(texts) == 1 and "vous avez déjà un compte" in texts[0] and "j.petit4" in texts[0]
    assert "http://localhost/connexion" in texts[0]
    page = signup.code("123456")
    assert page.status_code == 400 and "Ce code n'est pas le bon" in plain(page)
    with app.app_context():
        assert db.session.scalar(select(func.count(Account.id)).where(
            Account.profile == "parent")) == 1


def test_a_provisional_account_from_a_school_letter_is_activated(app, browser):
    """The school had issued an account (letter lost): J4 activates it, same identifier."""
    family = make_family(app, account_state="provisional", identifier="j.petit7")
    page = Signup(app, browser).through()
    assert "<strong>j.petit7</strong>" in page.text
    account = account_of(app, family)
    assert account.id == family.account_id and account.state == AccountState.active
    with app.app_context():
        assert db.session.scalar(select(func.count(Account.id)).where(
            Account.profile == "parent")) == 1


def test_a_roster_import_family_signs_up(app, browser):
    """Records made by the real roster import (provisional accounts for everyone)."""
    from idp.roster.importer import import_roster

    from ..support.factories.accounts import school_row

    with app.app_context():
        school_row(academy="nancy-metz")
        db.session.commit()
        import_roster("0540042A", (
            "ine;nom;prenom;date_naissance;classe;resp1_nom;resp1_prenom;resp1_telephone;"
            "resp1_email\n0987654321J;Petit;Lucas;20/05/2013;5e C;Petit;Jeanne;"
            "06 11 22 33 44;\n").encode(), actor="test", file_name="t.csv")
        db.session.commit()
    page = Signup(app, browser).through()
    with app.app_context():
        rep = db.session.scalar(select(RepresentativeRecord))
        account = db.session.get(Account, rep.account_id)
        assert account.state == AccountState.active
        assert f"<strong>{account.identifier}</strong>" in page.text
        assert len(linked_pupils(app, account.id)) == 1


def test_the_journey_is_audited_without_codes_or_numbers(app, browser):
    make_family(app)
    Signup(app, browser).through()
    code = last_code(app)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    actions = [e.action for e in events]
    for action in ("sms_code_issued", "signup_started", "sms_code_verified",
                   "signup_phone_verified", "signup_completed", "login"):
        assert action in actions, actions
    dump = " ".join(f"{e.target} {e.details}" for e in events)
    assert code not in dump and PHONE not in dump


def test_the_outbox_page_shows_the_sms_for_make_run(app, browser, settings):
    from idp import create_app

    make_family(app)
    Signup(app, browser).identity()
    page = create_app({**settings, "DEV_OUTBOX": True}).test_client().get("/dev/outbox")
    assert page.status_code == 200 and last_code(app) in page.text and "sms" in page.text
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.channel)) == "sms"


def test_the_demo_family_can_sign_up_and_again_after_a_reload(app, browser):
    from idp.admin.demo import load_demo

    with app.test_request_context("/"):
        summary = load_demo()["signup"]
        db.session.commit()
    assert summary["mobile"] == "06 12 34 56 78"
    phone = "+33612345678"
    signup = Signup(app, browser)
    identity = {"last_name": "Benali", "first_name": "Nadia", "phone": summary["mobile"]}
    signup.identity(**identity)
    page = signup.code(last_code(app, phone), phone=phone)
    assert "Yanis Benali" in page.text and "Sarah Benali" in page.text
    assert "Lycée Henri Poincaré" in page.text and "Collège Jean Moulin" in page.text
    signup.pupils(("yes", "12", "10", "2013"), ("yes", "04", "07", "2010"))
    page = signup.password()
    assert "<strong>n.benali</strong>" in page.text
    with app.test_request_context("/"):
        load_demo()
        db.session.commit()
    again = Signup(app, Browser(app.test_client()))
    again.identity(**identity)
    again.code(last_code(app, phone), phone=phone)
    again.pupils(("yes", "12", "10", "2013"), ("yes", "04", "07", "2010"))
    assert "<strong>n.benali1</strong>" in again.password().text
