"""Issue 21, point 9: the words families read. A pupil's page says "tu" from top to bottom
(as the pupils' letter does) and a parent's "vous"; counts are real plurals, never
"essai(s)"; the service asking is named without an article to get wrong; the recovery
question reads as French; a phone number is shown one way everywhere."""
from __future__ import annotations

import html
import re


from idp.db import db
from idp.extensions import throttle

from ..support.admin import SCHOOL_A, console_sign_in, make_staff
from ..support.browser import csrf_token
from ..support.letters import NEW_PASSWORD, ROSTER

VOUS = re.compile(r"\b(vous|votre|vos|Vous|Votre|Vos|[Cc]hoisissez|[Ss]aisissez|[Cc]ochez|"
                  r"[Aa]ctivez|[Gg]érez)\b")
TU = re.compile(r"\b(tu|ton|ta|tes|te|t'|Tu|Ton|Ta|Tes|[Cc]hoisis|[Ss]aisis|[Cc]oche|"
                r"[Aa]ctive|[Gg]ère)\b")
PARENTHESISED_PLURAL = re.compile(r"\w\((s|x|es)\)")


def main_text(page) -> str:
    """What the page says in its <main> (the header's menu and footer are shared)."""
    text = html.unescape(page.text)
    match = re.search(r"<main\b.*?</main>", text, re.S)
    assert match, "page has no <main>"
    return re.sub(r"<[^>]+>", " ", match.group(0))


def first_connection_page(browser, identifier, password, profile):
    browser.choose(profile=profile)
    page = browser.sign_in(identifier, password, choose=False)
    assert page.request.path == "/premiere-connexion", page.text[:300]
    return page


def test_a_pupils_first_connection_says_tu_even_with_every_error(browser, letters):
    page = first_connection_page(browser, "l.durand", letters["l.durand"], "pupil")
    text = main_text(page)
    assert "active ton compte" in text and not VOUS.search(text), VOUS.search(text)
    # Every mistake at once: empty confirmation, a date that is not one, no email.
    page = browser.submit("/premiere-connexion", {
        "password": "Durand-2012!x", "password_confirm": "", "birth_date": "31/02/2012",
        "email": ""})
    text = main_text(page)
    assert page.status_code == 400
    assert "Saisis à nouveau le nouveau mot de passe." in text
    assert "Saisis la date au format JJ/MM/AAAA" in text
    assert "Saisis ton adresse mail, ou coche" in text
    assert not VOUS.search(text), VOUS.search(text).group(0)
    # The password rules, in the pupil's words too.
    page = browser.submit("/premiere-connexion", {
        "password": "Durand-2012!x", "password_confirm": "Durand-2012!x",
        "birth_date": "14/03/2012", "email": "leo@example.org"})
    text = main_text(page)
    assert "ni ton identifiant, ni ton nom" in text and not VOUS.search(text)


def test_a_parents_first_connection_says_vous(browser, letters):
    page = first_connection_page(browser, "m.durand", letters["m.durand"], "parent")
    text = main_text(page)
    assert "activez votre compte" in text and not TU.search(text), TU.search(text)
    page = browser.submit("/premiere-connexion", {
        "password": "Durand-2012!x", "password_confirm": "Durand-2012!x",
        "birth_date": "01/01/2012", "email": ""})
    text = main_text(page)
    assert "ni votre identifiant, ni votre nom" in text
    page = browser.submit("/premiere-connexion", {
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
        "birth_date": "01/01/2012", "email": "marie@example.org"})
    text = main_text(page)
    assert "Il reste 4 essais." in text and not PARENTHESISED_PLURAL.search(text)
    assert not TU.search(text), TU.search(text).group(0)


def test_a_pupils_home_and_account_pages_say_tu(browser, make):
    pupil = make.account(pupil=True)
    browser.sign_in(pupil)
    for url in ("/", "/compte"):
        text = main_text(browser.get(url))
        assert not VOUS.search(text), (url, VOUS.search(text).group(0))
    assert "gère ton compte" in main_text(browser.get("/compte"))


def test_a_parents_account_page_says_vous(browser, make):
    browser.sign_in(make.account())
    text = main_text(browser.get("/compte"))
    assert "gérez votre compte" in text and not TU.search(text)


def test_the_service_asking_is_named_without_an_article(browser, make):
    rp = make.oidc_client(name="ENT", redirect_uris=["https://ent.example/callback"])
    from ..support.oidc import authorize_params, pkce_pair
    _verifier, challenge = pkce_pair()
    browser.choose()
    page = browser.get("/oidc/authorize", query_string=authorize_params(rp, challenge=challenge))
    text = main_text(page)
    assert page.request.path == "/connexion"
    assert "Service demandé : ENT" in text and "accéder à ENT" not in text


def test_the_recovery_question_reads_as_french(browser, make):
    account = make.account(phone="+33612345678")
    browser.get("/recuperation/mot-de-passe")
    page = browser.submit("/recuperation/mot-de-passe", {"identifier": account.identifier})
    text = main_text(page)
    assert "Comment voulez-vous recevoir le lien ou le code qui permet de choisir" in text
    assert "de quoi" not in text


def test_a_phone_is_shown_one_way_on_the_contact_step(browser, make):
    account = make.account(phone="+33612345678", preferences_done=False)
    page = browser.sign_in(account)
    assert page.request.path == "/preferences"
    text = main_text(page)
    assert "+33 6 12 34 56 78" in text and "+33612345678" not in text


def test_the_console_counts_failures_in_real_plurals(app, browser, make):
    make.school(SCHOOL_A)
    one = make.account(school_uai=SCHOOL_A, last_name="Un")
    two = make.account(school_uai=SCHOOL_A, last_name="Deux")
    with app.test_request_context():
        guard = throttle()
        guard.record_failure("198.51.100.1", one.identifier)
        for n in range(2):
            guard.record_failure(f"198.51.100.{n}", two.identifier)
    console_sign_in(browser, make_staff(app, "ecole.dan", role="school_staff",
                                        schools=[SCHOOL_A]))
    base = f"/admin/etablissements/{SCHOOL_A}/comptes"
    text = main_text(browser.get(f"{base}/{one.id}"))
    assert "1 échec de connexion récent" in text and not PARENTHESISED_PLURAL.search(text)
    text = main_text(browser.get(f"{base}/{two.id}"))
    assert "2 échecs de connexion récents" in text


def test_the_console_import_says_rows_in_real_plurals(app, browser, make):
    make.school(SCHOOL_A)
    console_sign_in(browser, make_staff(app, "ecole.dan", role="school_staff",
                                        schools=[SCHOOL_A]))
    base = f"/admin/etablissements/{SCHOOL_A}"
    token = csrf_token(browser.get(base).text)
    roster = ROSTER.replace("0540042A", SCHOOL_A).encode()
    import io
    page = browser.follow(browser.client.post(f"{base}/import", data={
        "csrf_token": token, "roster": (io.BytesIO(roster), "eleves.csv")},
        content_type="multipart/form-data"))
    text = main_text(page)
    assert "Import enregistré : 1 ligne, " in text and not PARENTHESISED_PLURAL.search(text)
    text = main_text(browser.get(base))
    assert "(1 ligne, " in text and "lignes" not in text.split("(1 ligne, ")[1][:40]
    assert not PARENTHESISED_PLURAL.search(text)


ACCOUNT_SUB_PAGES = ("/compte/mot-de-passe", "/compte/email", "/compte/telephone",
                     "/compte/double-authentification", "/compte/confirmer-mot-de-passe")


def test_a_pupils_account_sub_pages_say_tu_errors_included(browser, make):
    """The pages under Mon compte, not only Mon compte itself, speak to a pupil as "tu"."""
    pupil = make.account(pupil=True)
    browser.sign_in(pupil)
    for url in ACCOUNT_SUB_PAGES:
        page = browser.get(url)
        text = main_text(page)
        assert page.status_code == 200, url
        assert not VOUS.search(text), (url, VOUS.search(text).group(0))
    assert "La saisie de ton mot de passe actuel" in main_text(browser.get(ACCOUNT_SUB_PAGES[0]))
    # Every field left empty, then a wrong current password: the messages say "tu" too.
    for url, data in (("/compte/mot-de-passe", {}), ("/compte/email", {}),
                      ("/compte/telephone", {}), ("/compte/confirmer-mot-de-passe", {}),
                      ("/compte/mot-de-passe", {"current": "pas-le-bon", "password": "x",
                                                "password_confirm": "x"})):
        browser.get(url)
        page = browser.submit(url, data)
        text = main_text(page)
        assert page.status_code == 400, (url, text[:300])
        assert not VOUS.search(text), (url, data, VOUS.search(text).group(0))
    assert "Saisis ton mot de passe actuel." in main_text(
        browser.submit("/compte/mot-de-passe", {}))


def test_a_parents_account_sub_pages_say_vous(browser, make):
    browser.sign_in(make.account())
    for url in ACCOUNT_SUB_PAGES:
        text = main_text(browser.get(url))
        assert not TU.search(text), (url, TU.search(text).group(0))
    assert "La saisie de votre mot de passe actuel" in main_text(
        browser.get(ACCOUNT_SUB_PAGES[0]))
    assert "Saisissez votre mot de passe actuel." in main_text(
        browser.submit("/compte/mot-de-passe", {}))


def test_a_pupils_contact_step_says_tu_errors_and_link_page_included(browser, make, rp):
    """« Vérifie tes informations » at a pupil's sign-in, the bad address's message and
    the "link sent" page; a parent's stays "vous" (tests/functional/test_preferences.py)."""
    from ..support.gating import authorize

    pupil = make.account(pupil=True, preferences_done=False, email=None)
    page = browser.sign_in(pupil, start=authorize(browser, rp))
    assert page.request.path == "/preferences"
    text = main_text(page)
    assert "Vérifie tes informations" in text and "Renseigne ou mets à jour ton adresse" in text
    assert not VOUS.search(text), VOUS.search(text).group(0)
    page = browser.submit_page({"email": "lou@"})
    text = main_text(page)
    assert page.status_code == 400 and "Saisis une adresse email valide" in text
    assert not VOUS.search(text), VOUS.search(text).group(0)
    page = browser.submit_page({"email": "lou@example.org"})
    text = main_text(page)
    assert "Tes informations sont enregistrées" in text, text[:500]
    assert not VOUS.search(text), VOUS.search(text).group(0)


def test_the_console_home_counts_verification_slots_with_real_plurals(app, browser):
    """« 1 vérification de mot de passe à la fois », « 2,5 s » in French."""
    admission = app.extensions["idp"]["admission"]
    saved = admission.concurrency, admission.wait_seconds, admission.enabled
    console_sign_in(browser, make_staff(app, "ops.pluriels"))
    try:
        admission.enabled = True
        admission.concurrency, admission.wait_seconds = 1, 2.5
        text = html.unescape(browser.get("/admin/").text)
        assert "Par processus : 1 vérification de mot de passe à la fois" in text
        assert "2,5 s d'attente au plus" in text
        admission.concurrency = 2
        text = html.unescape(browser.get("/admin/").text)
        assert "Par processus : 2 vérifications de mot de passe à la fois" in text
    finally:
        admission.concurrency, admission.wait_seconds, admission.enabled = saved


def test_the_dashboard_rates_use_a_french_decimal_comma_and_name_the_class(
        app, browser, letters):
    console_sign_in(browser, make_staff(app, "ops.tableau"))
    page = browser.get(f"/admin/etablissements/{SCHOOL_A}/tableau")
    text = html.unescape(page.text)
    assert page.status_code == 200
    assert re.search(r"<td>\d+,\d %</td>", text) and not re.search(r"<td>\d+\.\d %</td>", text)
    # « Nouveau courrier » links differ for a screen reader: the class is in the link.
    # (an aria-label, not a visually hidden span: absolutely positioned, it would escape
    # the table's scrolling box and make the phone page scroll sideways)
    assert re.search(r'aria-label="Nouveau courrier — [^"]+">Nouveau courrier</a>', text)


def test_a_pupils_phone_code_page_says_tu_errors_and_resend_included(browser, make):
    pupil = make.account(pupil=True)
    browser.sign_in(pupil)
    browser.get("/compte/telephone")
    page = browser.submit_page({"phone": "07 98 76 54 31"})
    assert page.request.path == "/compte/telephone/code", main_text(page)[:300]
    assert "Saisis le code reçu par SMS" in main_text(page)
    for data, expected in (({"code": ""}, "Saisis le code à 6 chiffres reçu par SMS."),
                           ({"code": "000001"}, "Code incorrect. Il te reste")):
        page = browser.submit_page(data)
        text = main_text(page)
        assert page.status_code == 400 and expected in text, text[:600]
        assert not VOUS.search(text), (data, VOUS.search(text).group(0))
    browser.get("/compte/telephone/code")
    page = browser.submit("/compte/telephone/renvoyer", {})
    text = html.unescape(page.text)
    assert "tu pourras en demander un autre" in text or "Un nouveau code a été envoyé." in text
    assert "vous pourrez" not in text


def test_every_page_names_an_icon_that_exists(browser):
    """Without one, browsers ask /favicon.ico on every page: a 404 in every family's
    console and in the access logs."""
    page = browser.get("/choisir-profil")
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page.text)
    assert href, page.text[:600]
    icon = browser.client.get(href.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_the_sign_in_form_says_tu_to_a_pupil_and_vous_to_a_parent(app, browser, make):
    """Errors of the sign-in form, empty fields and the slowed connection included,
    follow the profile chosen (the same for an identifier that exists or not)."""
    browser.choose(profile="pupil")
    browser.get("/connexion")
    empty = browser.submit("/connexion", {"identifier": "", "password": ""})
    assert "Saisis ton identifiant." in html.unescape(empty.text)
    assert "Saisis ton mot de passe." in html.unescape(empty.text)
    assert not VOUS.search(main_text(empty)), main_text(empty)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        guard = throttle()
        for _ in range(int(app.config["LOCKOUT_IP_THRESHOLD"]) + 1):
            guard.record_failure("127.0.0.1", "personne")
    slowed = browser.submit("/connexion", {"identifier": "personne", "password": "x"})
    assert "Réessaie dans" in html.unescape(slowed.text)
    assert not VOUS.search(main_text(slowed)), main_text(slowed)
    parent = type(browser)(app.test_client())
    parent.choose(profile="parent")
    parent.get("/connexion")
    page = parent.submit("/connexion", {"identifier": "", "password": ""})
    assert "Saisissez votre identifiant." in html.unescape(page.text)
