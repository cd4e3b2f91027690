"""The one sign-in driver (tests/support/signin.py) serves both protocols: an OIDC
authorization and a SAML AuthnRequest, for an account that meets every step (second
factor, charter, preferences, consent), end at the RP with the steps recorded."""
from __future__ import annotations

from idp.models import CharterAcceptance, Consent, ContactPreferences

from ..support.browser import Browser
from ..support.gating import at_rp, authorize
from ..support.saml import send, sign_in_via


def _account(make, gating):
    gating.charter()
    return make.account(with_second_factor=True, first_visit=True)


def test_oidc_authorize_through_every_step(browser, make, gating):
    account = _account(make, gating)
    rp = make.oidc_client(untrusted=True)
    first = browser.sign_in(account, start=authorize(browser, rp))
    assert first.request.path == "/connexion/verification"  # steps=False: stops there
    page = browser.through_steps(code=account.code)
    assert at_rp(page, rp) and "code" in at_rp(page, rp)
    assert gating.rows(CharterAcceptance, account_id=account.id)
    assert gating.rows(ContactPreferences, account_id=account.id)
    assert gating.rows(Consent, account_id=account.id)


def test_saml_request_through_every_step(browser, make, gating, new_sp):
    account = _account(make, gating)
    sp = new_sp()
    req_id, page = sign_in_via(browser, sp, account)
    assert sp.consume(page.text, req_id).name_id.text
    assert gating.rows(CharterAcceptance, account_id=account.id)
    assert gating.rows(ContactPreferences, account_id=account.id)
    # Signed in: a second request is answered without any page.
    req_id, args = sp.authn_request()
    assert sp.consume(browser.follow(send(browser.client, args)).text, req_id).name_id.text


def test_the_walker_stops_where_it_has_no_answer(app, browser, make, gating):
    account = _account(make, gating)
    rp = make.oidc_client()
    # A made account answers its second factor itself; code=None withholds the code.
    page = browser.sign_in(account, start=authorize(browser, rp), steps=True, code=None)
    assert page.request.path == "/connexion/verification" and page.status_code == 200
    # A wrong password is answered once: the test sees the page again, with its error.
    other = make.account()
    fresh = Browser(app.test_client())
    page = fresh.sign_in(other.identifier, "Wrong-Pass-2026", start=authorize(fresh, rp))
    assert page.request.path == "/connexion" and page.status_code == 400
