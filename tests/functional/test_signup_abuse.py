"""J4 limits over HTTP: the resend wait that doubles, the daily cap per number, the cap
per IP, the global cap, three wrong codes, three wrong birth dates, a store outage."""
from __future__ import annotations

from sqlalchemy import func, select

from idp.db import db
from idp.models import Account
from idp.security.sms_codes import wait_key
from idp.store import StoreUnavailable

from ..support.browser import Browser, hidden_fields
from ..support.signup import PHONE, Signup, last_code, make_family, plain, sms_to


def resend(browser):
    page = browser.get("/inscription/code")
    return browser.submit("/inscription/code/renvoyer", hidden_fields(page.text))


def test_resend_waits_and_the_wait_doubles(app, browser):
    make_family(app)
    store = app.extensions["idp"]["store"]
    signup = Signup(app, browser)
    signup.identity()
    page = resend(browser)
    assert "Vous pourrez en demander un autre dans" in plain(page) and "secondes" in plain(page)
    assert len(sms_to(app)) == 1
    store.delete(wait_key(PHONE, "signup"))  # what the 30 seconds would do
    page = resend(browser)
    assert "Un nouveau code de sécurité a été envoyé" in plain(page)
    assert len(sms_to(app)) == 2
    page = resend(browser)
    assert "dans 1 minute" in plain(page)  # 60 s now
    store.delete(wait_key(PHONE, "signup"))
    resend(browser)
    page = resend(browser)
    assert "dans 2 minutes" in plain(page)
    page = signup.code(last_code(app))  # the newest code works
    assert page.request.path == "/inscription/eleves"


def test_daily_cap_per_number(app, browser, config):
    config(SMS_RESEND_SECONDS=0, SMS_MAX_PER_NUMBER_DAY=2)
    make_family(app)
    Signup(app, browser).identity()
    resend(browser)
    page = resend(browser)
    assert "Ce numéro a reçu trop de SMS aujourd'hui" in plain(page)
    assert len(sms_to(app)) == 2
    # A new journey with the same number is refused on the first page, details kept.
    other = Browser(app.test_client())
    page = Signup(app, other).identity()
    assert page.status_code == 429 and "Ce numéro a reçu trop de SMS aujourd'hui" in plain(page)
    assert 'value="Petit"' in page.text and len(sms_to(app)) == 2


def test_cap_per_ip(app, config):
    config(SMS_MAX_PER_IP_HOUR=2)
    phones = ["06 11 22 33 01", "06 11 22 33 02", "06 11 22 33 03"]
    statuses = []
    for phone in phones:
        page = Signup(app, Browser(app.test_client())).identity(phone=phone)
        statuses.append(page.status_code)
    assert statuses == [200, 200, 429]
    assert "Trop de demandes ont été faites depuis votre connexion" in plain(page)
    other = Browser(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    assert Signup(app, other).identity(phone="06 11 22 33 04").status_code == 200


def test_global_daily_cap(app, config):
    config(SMS_MAX_PER_DAY=1)
    assert Signup(app, Browser(app.test_client())).identity(
        phone="06 11 22 33 01").status_code == 200
    page = Signup(app, Browser(app.test_client())).identity(phone="06 11 22 33 02")
    assert page.status_code == 429 and "L'envoi de SMS est momentanément suspendu" in plain(page)


def test_three_wrong_codes_kill_it_and_a_new_one_works(app, browser):
    make_family(app)
    store = app.extensions["idp"]["store"]
    signup = Signup(app, browser)
    signup.identity()
    code = last_code(app)
    wrong = "000000" if code != "000000" else "111111"
    assert "Il reste 2 essais" in plain(signup.code(wrong))
    assert "Il reste 1 essai" in plain(signup.code(wrong))
    page = signup.code(wrong)
    assert "Ce code ne fonctionne plus après 3 erreurs" in plain(page)
    page = signup.code(code)
    assert page.status_code == 400 and "Ce code ne fonctionne plus" in plain(page)
    store.delete(wait_key(PHONE, "signup"))
    resend(browser)
    assert signup.code().request.path == "/inscription/eleves"


def test_wrong_birth_dates_stop_the_journey_and_send_to_the_school(app, browser):
    family = make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    signup.code()
    page = signup.pupils(("yes", "21", "05", "2013"))
    assert page.status_code == 400
    assert "Cette date ne correspond pas à celle connue de l'établissement. Il reste 2 essais." \
        in plain(page)
    assert 'value="21"' in page.text
    assert "Il reste 1 essai." in plain(signup.pupils(("yes", "20", "06", "2013")))
    page = signup.pupils(("yes", "20", "05", "2012"))
    assert page.status_code == 403 and page.request.path == "/inscription/arret"
    assert "Contactez le secrétariat de l'établissement" in plain(page)
    assert browser.get("/inscription/eleves").request.path == "/inscription/arret"
    with app.app_context():
        assert db.session.scalar(select(func.count(Account.id)).where(
            Account.profile == "parent")) == 0
    # Starting again the same day brings no new tries, even with a new code.
    app.extensions["idp"]["store"].delete(wait_key(PHONE, "signup"))
    again = Browser(app.test_client())
    signup = Signup(app, again)
    signup.identity()
    page = signup.code()
    assert page.request.path == "/inscription/arret" and page.status_code == 403


def test_a_store_outage_answers_503(app, browser, monkeypatch):
    make_family(app)
    browser.get("/inscription")
    page = browser.page
    store = app.extensions["idp"]["store"]

    def down(*args, **kwargs):
        raise StoreUnavailable("down")

    monkeypatch.setattr(store, "ttl", down)
    monkeypatch.setattr(store, "add", down)
    response = browser.submit_page({"last_name": "Petit", "first_name": "Jeanne",
                                    "phone": "06 11 22 33 44", "region": "FR"})
    assert response.status_code == 503 and "momentanément indisponible" in plain(response)
    assert sms_to(app) == []
