"""The optional second factor of a family account: TOTP enrolment from "Mon compte" (QR
code, a first code, recovery codes shown once), the `second_factor` step of the sign-in
plan (before any RP gets a code), single-use codes, recovery codes, disabling with the
password and a code. Notices are mailed through a real SMTP server."""
from __future__ import annotations

import base64
import json
import re
import time
from html import unescape

import pyotp

from idp.models import RecoveryCode, SecondFactor

from ..support.accounts import audit_actions, deliver, mails_to
from ..support.oidc import query

SECRET = re.compile(r"<code>([A-Z2-7 ]{16,})</code>")
CODES = re.compile(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>")


def enrol(browser, account) -> tuple[pyotp.TOTP, list[str]]:
    """Sign in, turn the second factor on; the app's TOTP and the recovery codes."""
    browser.sign_in(account.identifier, account.password)
    page = browser.get("/compte/double-authentification")
    assert "<svg" in page.text and 'class="segno"' in page.text  # inline QR code
    # A screen reader names it; the key is also given as text (aria-describedby).
    assert 'role="img" aria-label="QR code à scanner avec l\'application ' \
           'd\'authentification" aria-describedby="secret-text"' in page.text
    totp = pyotp.TOTP(SECRET.search(page.text).group(1).replace(" ", ""))
    done = browser.submit("/compte/double-authentification/activer", {"code": totp.now()})
    codes = CODES.findall(done.text)
    return totp, codes


def later_code(totp: pyotp.TOTP, steps: int = 1) -> str:
    """The code of a neighbouring time step (accepted once, like the current one)."""
    return totp.at(time.time() + 30 * steps)


def test_enrolment_shows_the_codes_once_and_tells_the_family(app, browser, make, gating,
                                                             use_smtp):
    account = make.account()
    totp, codes = enrol(browser, account)
    assert len(codes) == 10 and len(set(codes)) == 10
    [factor] = gating.rows(SecondFactor, account_id=account.id)
    assert totp.secret not in factor.sealed_secret  # sealed, not in clear
    rows = gating.rows(RecoveryCode, account_id=account.id)
    assert len(rows) == 10 and all(c not in {r.code_hash for r in rows} for c in codes)
    page = browser.get("/compte")
    assert "Activée" in page.text and "Codes de secours restants : 10." in page.text
    assert not CODES.findall(browser.get("/compte/double-authentification").text)
    deliver(app)
    [notice] = mails_to(use_smtp, "camille.martin@example.org")
    assert "La validation en deux étapes a été activée" in use_smtp.text_of(notice)


def test_a_wrong_first_code_enables_nothing(browser, make, gating):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    page = browser.get("/compte/double-authentification")
    secret = SECRET.search(page.text).group(1)
    page = browser.submit("/compte/double-authentification/activer", {"code": "000000"})
    assert page.status_code == 400 and "Code incorrect" in page.text
    assert 'id="code-error"' in page.text
    assert SECRET.search(page.text).group(1) == secret  # the same key: the app keeps working
    assert gating.rows(SecondFactor) == [] and gating.rows(RecoveryCode) == []


def test_sign_in_asks_the_code_before_any_relying_party(app, browser, make, flow, rp):
    account = make.account()
    totp, _ = enrol(browser, account)
    browser.logout()
    page = flow.authorize(rp)
    if page.request.path == "/choisir-profil":
        page = browser.submit("/choisir-profil", {"profile": "parent", "academy": "nancy-metz"})
    page = browser.submit("/connexion", {"identifier": account.identifier,
                                         "password": account.password})
    assert page.request.path == "/connexion/verification"
    assert "Validation en deux étapes" in page.text
    assert browser.get("/continue").request.path == "/connexion/verification"  # gated
    wrong = browser.submit_page({"code": "123456"})
    assert wrong.status_code == 400 and "Code incorrect" in wrong.text
    done = browser.submit_page({"code": later_code(totp)}, follow=False)
    done = browser.follow(done)
    assert done.status_code == 302 and done.location.startswith(rp.redirect_uri)
    tokens = flow.token(rp, query(done.location)["code"]).json
    claims = tokens["id_token"].split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert "otp" in payload.get("amr", []) and "mfa" in payload["amr"]


def test_a_code_works_once(browser, make):
    account = make.account()
    totp, _ = enrol(browser, account)
    browser.logout()
    code = later_code(totp, -1)
    browser.sign_in(account.identifier, account.password)
    assert browser.submit_page({"code": code}).request.path == "/"
    browser.logout()
    browser.sign_in(account.identifier, account.password)
    replay = browser.submit_page({"code": code})
    assert replay.status_code == 400 and replay.request.path == "/connexion/verification"


def test_a_recovery_code_opens_once_and_the_family_is_told(app, browser, make, use_smtp):
    account = make.account()
    _, codes = enrol(browser, account)
    browser.logout()
    browser.sign_in(account.identifier, account.password)
    page = browser.submit_page({"code": codes[0].upper().replace("-", " ")})
    assert page.request.path == "/" and "Il vous en reste 9" in unescape(page.text)
    browser.logout()
    browser.sign_in(account.identifier, account.password)
    again = browser.submit_page({"code": codes[0]})
    assert again.status_code == 400
    deliver(app)
    assert any("Un code de secours a été utilisé" in use_smtp.text_of(m)
               for m in use_smtp.messages)
    assert "recovery_code_used" in audit_actions(app)


def test_guessing_codes_is_slowed_down(browser, make):
    account = make.account()
    totp, _ = enrol(browser, account)
    browser.logout()
    browser.sign_in(account.identifier, account.password)
    for i in range(5):
        browser.submit_page({"code": f"{i:06d}"})
    page = browser.submit_page({"code": later_code(totp)})
    assert page.status_code == 400 and "Trop de codes incorrects" in page.text


def test_renewing_codes_replaces_the_old_ones(browser, make, gating):
    account = make.account()
    _, old = enrol(browser, account)
    page = browser.submit("/compte/double-authentification/codes", {},
                          page_html=browser.get("/compte/double-authentification").text)
    new = CODES.findall(page.text)
    assert len(new) == 10 and not set(new) & set(old)
    browser.logout()
    browser.sign_in(account.identifier, account.password)
    assert browser.submit_page({"code": old[1]}).status_code == 400
    assert browser.submit_page({"code": new[1]}).request.path == "/"


def test_disabling_needs_the_password_and_a_code(app, browser, make, gating, use_smtp):
    account = make.account()
    totp, codes = enrol(browser, account)
    browser.get("/compte/double-authentification")
    page = browser.submit("/compte/double-authentification/desactiver",
                          {"password": "Pas-le-bon-1!", "code": later_code(totp)})
    assert page.status_code == 400 and "la validation en deux étapes reste activée" in page.text
    page = browser.submit_page({"password": account.password, "code": "000000"})
    assert page.status_code == 400 and "Code incorrect" in page.text
    assert len(gating.rows(SecondFactor)) == 1
    page = browser.submit_page({"password": account.password, "code": codes[3]})
    assert page.request.path == "/compte"
    assert "La validation en deux étapes est désactivée." in page.text
    assert gating.rows(SecondFactor) == [] and gating.rows(RecoveryCode) == []
    browser.logout()
    assert browser.sign_in(account.identifier, account.password).request.path == "/"
    deliver(app)
    assert any("a été désactivée" in use_smtp.text_of(m) for m in use_smtp.messages)


def test_accounts_without_it_never_see_the_step(browser, make):
    account = make.account()
    assert browser.sign_in(account.identifier, account.password).request.path == "/"
    page = browser.get("/connexion/verification")
    assert page.request.path == "/"  # not its turn: handed back to the plan
