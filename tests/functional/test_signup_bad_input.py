"""J4 with bad input: a clear French message on the same step, nothing typed lost, never
a duplicate account (invalid and foreign numbers, codes with spaces, expired codes, the
back button, double submits, stale forms)."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from idp.db import db
from idp.models import Account
from idp.security import sms_codes

from ..support.browser import hidden_fields
from ..support.signup import Signup, last_code, make_family, plain, sms_to


def parents(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Account.id)).where(
            Account.profile == "parent"))


@pytest.mark.parametrize("phone,message", [
    ("06 12", "Ce numéro de téléphone n'est pas valide"),
    ("bonjour", "Ce numéro de téléphone n'est pas valide"),
    ("+32 470 12 34 56", "Seuls les numéros de téléphone portable français"),
    ("+44 7911 123456", "Seuls les numéros de téléphone portable français"),
    ("08 99 12 34 56", "Les numéros surtaxés ou spéciaux ne peuvent pas recevoir de code"),
    ("01 76 54 32 10", "Ce numéro n'est pas un numéro de téléphone portable"),
])
def test_a_number_that_cannot_get_a_code_is_refused_beside_the_field(app, browser, phone,
                                                                     message):
    make_family(app)
    page = Signup(app, browser).identity(phone=phone, first_name="Jeanne ")
    assert page.status_code == 400 and page.request.path == "/inscription"
    text = plain(page)
    assert message in text and "Le formulaire contient des erreurs" in text
    assert 'id="phone-error"' in page.text and 'aria-invalid="true"' in page.text
    # What was typed is still there.
    assert f'value="{phone}"' in text and 'value="Petit"' in text and 'value="Jeanne"' in text
    assert sms_to(app) == []


def test_missing_fields_each_get_their_message(app, browser):
    browser.get("/inscription")
    page = browser.submit_page({"last_name": "", "first_name": "", "phone": ""})
    assert page.status_code == 400
    for message in ("Saisissez votre nom.", "Saisissez votre prénom.",
                    "Saisissez votre numéro de téléphone portable."):
        assert message in plain(page)


def test_an_overseas_number_typed_nationally_is_understood(app, browser):
    make_family(app, phone="+590690123456")
    page = Signup(app, browser).identity(phone="0690 12 34 56", region="GP")
    assert page.request.path == "/inscription/code" and "+590 690 12 34 56" in page.text
    assert len(sms_to(app, "+590690123456")) == 1


def test_a_code_typed_with_spaces_is_accepted(app, browser):
    make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    code = last_code(app)
    page = signup.code(f" {code[:3]} {code[3:]} ")
    assert page.request.path == "/inscription/eleves"


def test_a_malformed_code_is_refused_without_using_a_try(app, browser):
    make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    for typed in ("12345", "abcdef", "1234567"):
        page = signup.code(typed)
        assert page.status_code == 400
        assert "Le code de sécurité comporte 6 chiffres" in plain(page)
        assert f'value="{typed}"' in page.text  # kept to be corrected
    page = signup.code()
    assert page.request.path == "/inscription/eleves"


def test_an_expired_code_says_so_and_a_new_one_works(app, browser, monkeypatch, config):
    config(SMS_RESEND_SECONDS=0)
    make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    old = last_code(app)
    start = time.time()
    monkeypatch.setattr(sms_codes, "clock", lambda: start + 10 * 60 + 5)
    page = signup.code(old)
    assert page.status_code == 400 and page.request.path == "/inscription/code"
    assert "Ce code a expiré" in plain(page) and f'value="{old}"' in page.text
    page = browser.submit("/inscription/code/renvoyer", hidden_fields(page.text))
    assert "Un nouveau code de sécurité a été envoyé" in plain(page)
    assert len(sms_to(app)) == 2
    assert signup.code().request.path == "/inscription/eleves"


def test_the_back_button_returns_to_the_current_step_with_everything_kept(app, browser):
    make_family(app)
    signup = Signup(app, browser)
    signup.identity(first_name="Jeanne", phone="06 11 22 33 44")
    signup.code()
    # Back to the code page: the number is verified, the family is sent on.
    page = browser.get("/inscription/code")
    assert page.request.path == "/inscription/eleves"
    # Back to the first page: what was typed is there, and submitting it again goes on
    # from where the family was, without a second SMS.
    page = browser.get("/inscription")
    text = plain(page)
    assert "Une inscription est en cours" in text
    assert 'value="Petit"' in text and 'value="06 11 22 33 44"' in text
    page = browser.submit_page({"last_name": "Petit", "first_name": "Jeanne",
                                "phone": "06 11 22 33 44", "region": "FR"})
    assert page.request.path == "/inscription/eleves" and len(sms_to(app)) == 1
    page = signup.pupils(("yes", "20", "05", "2013"))
    # "Précédent" from the password page: the answers and the date are kept.
    page = browser.get("/inscription/eleves")
    assert page.status_code == 200
    assert 'value="20"' in page.text and 'value="05"' in page.text and 'value="2013"' in page.text
    page = signup.pupils(("yes", "20", "05", "2013"))
    assert page.request.path == "/inscription/mot-de-passe"
    done = signup.password()
    assert done.request.path == "/inscription/compte-active"
    for path in ("/inscription", "/inscription/code", "/inscription/eleves",
                 "/inscription/mot-de-passe"):
        assert browser.get(path).request.path == "/inscription/compte-active", path
    assert parents(app) == 1


def test_a_replayed_password_form_makes_no_second_account(app, browser):
    make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    signup.code()
    page = signup.pupils(("yes", "20", "05", "2013"))
    fields = {**hidden_fields(page.text), "password": "Trousse-Verte-2026!",
              "password_confirm": "Trousse-Verte-2026!"}
    first = browser.client.post("/inscription/mot-de-passe", data=fields)
    assert first.status_code == 302 and first.location.endswith("/inscription/compte-active")
    # The sign-in renewed the session and its CSRF token: the replay is refused clearly.
    again = browser.client.post("/inscription/mot-de-passe", data=fields)
    assert again.status_code == 400 and "Ce formulaire a expiré" in plain(again)
    assert browser.get("/inscription/mot-de-passe").request.path == "/inscription/compte-active"
    assert parents(app) == 1


def test_a_concurrent_double_submit_makes_one_account(app, browser):
    make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    signup.code()
    page = signup.pupils(("yes", "20", "05", "2013"))
    fields = {**hidden_fields(page.text), "password": "Trousse-Verte-2026!",
              "password_confirm": "Trousse-Verte-2026!"}
    cookie = browser.client.get_cookie("idp_session").value
    barrier, statuses = threading.Barrier(3), []

    def submit():
        client = app.test_client()
        client.set_cookie("idp_session", cookie, domain="localhost")
        barrier.wait()
        statuses.append(client.post("/inscription/mot-de-passe", data=fields).status_code)

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(status in (302, 200) for status in statuses), statuses
    assert parents(app) == 1


def test_a_double_submitted_identity_form_sends_one_sms(app, browser):
    make_family(app)
    page = browser.get("/inscription")
    fields = {**hidden_fields(page.text), "last_name": "Petit", "first_name": "Jeanne",
              "phone": "06 11 22 33 44", "region": "FR"}
    first = browser.client.post("/inscription", data=fields)
    again = browser.client.post("/inscription", data=fields)
    assert first.status_code == again.status_code == 302
    assert again.location.endswith("/inscription/code")
    assert len(sms_to(app)) == 1
    assert browser.get("/inscription/code").request.path == "/inscription/code"
    assert Signup(app, browser).code().request.path == "/inscription/eleves"


def test_birth_dates_that_are_not_dates_do_not_use_a_try(app, browser):
    make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    signup.code()
    for typed, message in ((("", "", ""), "Saisissez la date de naissance de l'élève"),
                           (("3l", "05", "2013"), "Saisissez la date avec des chiffres"),
                           (("20", "05", "13"), "Saisissez la date avec des chiffres"),
                           (("31", "02", "2013"), "Cette date n'existe pas")):
        page = signup.pupils(("yes", *typed))
        assert page.status_code == 400 and message in plain(page), typed
        for part in typed:
            if part:
                assert f'value="{part}"' in page.text
    page = signup.pupils(("yes", "20", "05", "2013"))
    assert page.request.path == "/inscription/mot-de-passe"


def test_the_error_summary_says_which_pupil_each_error_is_about(app, browser):
    """Found by the Chromium walk: two pupils without a date gave the same line twice in
    the summary at the top; each line now starts with the pupil's name."""
    from datetime import date
    make_family(app, pupils=(("Lucas", "Petit", date(2013, 5, 20), "0540042A"),
                             ("Inès", "Petit", date(2010, 7, 4), "0540042A")))
    signup = Signup(app, browser)
    signup.identity()
    signup.code()
    page = signup.pupils(("yes", "", "", ""), ("yes", "", "", ""))
    assert page.status_code == 400
    summary = plain(page).split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    for name in ("Lucas Petit", "Inès Petit"):
        assert f"{name} : Saisissez la date de naissance de l'élève" in summary, name
    # Next to each field, the message alone (the pupil's name is the card's heading).
    assert plain(page).count('<p class="error" id="date-error-0">Saisissez la date') == 1


def test_a_weak_or_mismatched_password_is_explained_without_javascript(app, browser):
    make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    signup.code()
    signup.pupils(("yes", "20", "05", "2013"))
    page = signup.password("bonjour")
    text = plain(page)
    assert page.status_code == 400 and "8 caractères minimum." in text
    assert "Trop faible" in text and "(non respectée)" in text and "(respectée)" in text
    assert 'data-rule="lower"' in page.text and 'class="rule rule-met" data-rule="lower"' in page.text
    assert 'value="bonjour"' not in page.text  # passwords are never sent back
    page = signup.password("Petit-Jeanne-2026!")
    assert "ni votre nom" in plain(page)
    # Refused: the meter beside the reason says so, not "Très fort" (the Chromium walk).
    assert "Trop faible" in plain(page) and "Très fort</strong>" not in plain(page)
    page = signup.password("Trousse-Verte-2026!", "Trousse-Verte-2027!")
    assert "Les deux mots de passe ne sont pas identiques." in plain(page)
    assert "Très fort" in plain(page)
    assert signup.password().request.path == "/inscription/compte-active"


def test_a_form_from_an_older_transaction_is_refused(app, browser):
    make_family(app)
    make_family(app, first_name="Paul", phone="+33699887766")
    signup = Signup(app, browser)
    old_page = signup.identity()
    signup.identity(first_name="Paul", phone="06 99 88 77 66")  # started again, other details
    fields = {**hidden_fields(old_page.text), "code": last_code(app)}
    page = browser.client.post("/inscription/code", data=fields)
    assert page.status_code == 400 and "Cette page n'est plus valable" in plain(page)
    assert parents(app) == 0


def test_an_expired_transaction_starts_again_with_a_message(app, browser, config):
    config(SIGNUP_MINUTES=0.02)
    make_family(app)
    Signup(app, browser).identity()
    time.sleep(1.6)
    page = browser.get("/inscription/code")
    assert page.request.path == "/inscription" and "Votre inscription a expiré" in plain(page)


def test_pages_have_no_inline_script_or_style(app, browser):
    make_family(app)
    signup = Signup(app, browser)
    pages = [browser.get("/inscription"), signup.identity(), signup.code(),
             signup.pupils(("yes", "20", "05", "2013"))]
    for page in pages:
        assert "<script>" not in page.text and "style=" not in page.text
        assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert '<script src="/static/js/password-strength.js" defer></script>' in pages[-1].text
    assert browser.client.get("/static/js/password-strength.js").status_code == 200
