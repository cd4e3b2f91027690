"""The sign-in plan as the only mechanism: OIDC and SAML go through the same steps in the
same order, nothing is issued before the last one, and step pages cannot be used out of
turn, replayed, forged, submitted for another account's request or after expiry."""
from __future__ import annotations

from idp.models import CharterAcceptance, Consent, ContactPreferences, RPNoticeAcknowledgment
from idp.signin.gate import is_allowed
from idp.signin.plan import ORDER, _STEPS

from ..support.browser import Browser
from ..support.gating import at_rp, authorize
from ..support.saml import send

EVERY_STEP = ["/charte", "/charte", "/preferences", "/information-service", "/consentement"]


def fresh_account(make):
    return make.account(charter_accepted=False, preferences_done=False, with_pupils=1)


def test_every_step_is_registered_in_order_behind_one_gate():
    assert ORDER == ("wayf", "login", "activation", "second_factor", "password_change",
                     "charter", "preferences", "rp_notice", "consent")
    for name in ("wayf", "login", "password_change", "charter", "preferences", "rp_notice",
                 "consent"):
        assert is_allowed(_STEPS[name].endpoint), name  # step pages pass the gate...
    for endpoint in ("signin.resume", "home.index", "home.withdraw_consent",
                     "home.logout_everywhere"):
        assert not is_allowed(endpoint), endpoint  # ...what issues or shows data does not


def test_oidc_goes_through_every_step_then_gets_its_code(browser, make, gating):
    rp = make.oidc_client(name="Vie scolaire", trusted=False,
                          redirect_uris=["https://vie-scolaire.example/cb"])
    gating.charter("2026-09")
    gating.charter("2026-10", text="# Charte Vie scolaire\n\nRègles du service.\n",
                   rp_key=f"oidc:{rp.client_id}")
    gating.notice(f"oidc:{rp.client_id}")
    account = fresh_account(make)
    seen = []  # the step pages answered by the one driver, in order
    response = browser.sign_in(account, start=authorize(browser, rp), steps=True, seen=seen)
    assert seen == EVERY_STEP
    assert "code" in at_rp(response, rp)
    assert len(gating.rows(CharterAcceptance, account_id=account.id)) == 2
    assert gating.rows(ContactPreferences, account_id=account.id)
    assert gating.rows(RPNoticeAcknowledgment, account_id=account.id)
    assert gating.rows(Consent, account_id=account.id)
    actions = [a for a in gating.actions() if a in (
        "charter_accepted", "preferences_saved", "rp_notice_acknowledged", "consent_granted",
        "oidc_code_issued")]
    assert actions == ["charter_accepted", "charter_accepted", "preferences_saved",
                       "rp_notice_acknowledged", "consent_granted", "oidc_code_issued"]


def test_saml_goes_through_the_same_steps_then_gets_its_response(browser, make, new_sp,
                                                                 gating):
    sp = new_sp()
    gating.charter("2026-09")
    gating.charter("2026-10", text="# Charte Téléservices\n\nRègles.\n",
                   rp_key=f"saml:{sp.entity_id}")
    gating.notice(f"saml:{sp.entity_id}")
    account = fresh_account(make)
    req_id, args = sp.authn_request()
    seen = []
    page = browser.sign_in(account, start=send(browser.client, args), steps=True, seen=seen)
    assert seen == EVERY_STEP
    result = sp.consume(page.text, req_id)
    assert result.name_id.text
    assert gating.rows(Consent, account_id=account.id)[0].rp_key == f"saml:{sp.entity_id}"
    assert "saml_response_issued" in gating.actions()


def test_continue_and_refusal_answer_nothing_while_a_step_is_due(browser, make, rp, new_sp,
                                                                gating):
    gating.charter()
    account = make.account(charter_accepted=False)
    page = browser.sign_in(account, start=authorize(browser, rp))
    assert page.request.path == "/charte"
    for path in ("/continue", "/"):  # gated: straight to the due step
        response = browser.client.get(path)
        assert response.status_code == 302 and response.location.endswith("/charte"), path
    for path in ("/consentement", "/information-service", "/preferences"):  # out of turn
        assert browser.get(path).request.path == "/charte", path
    # Consent's refusal (the only way to deny a request) posted out of turn answers
    # nothing: back to /continue, gated, and the request is still pending.
    deny = browser.client.post("/consentement", data={
        "csrf_token": _csrf(page.text), "flow": _hidden(page.text, "flow"), "deny": "1"})
    assert deny.status_code == 302 and deny.location.endswith("/continue")
    assert browser.get("/continue").request.path == "/charte"
    assert "consent_refused" not in gating.actions()
    # SAML alike: a pending AuthnRequest is not answered through /continue before the
    # charter.
    sp = new_sp()
    req_id, args = sp.authn_request()
    assert browser.follow(send(browser.client, args)).request.path == "/charte"
    response = browser.client.get("/continue")
    assert response.status_code == 302 and response.location.endswith("/charte")
    assert "oidc_code_issued" not in gating.actions()
    assert "saml_response_issued" not in gating.actions()


def _csrf(html: str) -> str:
    from ..support.browser import csrf_token

    return csrf_token(html)


def test_a_later_step_posted_early_records_nothing(browser, make, gating):
    rp = make.oidc_client(trusted=False, redirect_uris=["https://tiers.example/cb"])
    gating.charter()
    page = browser.sign_in(make.account(charter_accepted=False), start=authorize(browser, rp))
    binding = _hidden(page.text, "flow")
    response = browser.client.post("/consentement", data={
        "csrf_token": _csrf(page.text), "flow": binding, "allow": "1"})
    assert response.status_code == 302 and response.location.endswith("/continue")
    assert gating.rows(Consent) == []


def _hidden(html: str, name: str) -> str:
    from ..support.browser import hidden_fields

    return hidden_fields(html)[name]


def test_a_forged_submission_is_refused(browser, make, rp, gating):
    gating.charter()
    page = browser.sign_in(make.account(charter_accepted=False), start=authorize(browser, rp))
    charter_id = _hidden(page.text, "charter")
    # No CSRF token: the CSRF page.
    response = browser.client.post("/charte", data={"charter": charter_id, "accept": "y"})
    assert response.status_code == 400 and "Formulaire expiré" in response.text
    # A CSRF token but no (or a made-up) binding: refused, with a way to go on.
    for flow in ("", "0" * 32):
        response = browser.client.post("/charte", data={
            "csrf_token": _csrf(page.text), "charter": charter_id, "accept": "y", "flow": flow})
        assert response.status_code == 400
        assert "Cette page n'est plus valable" in response.text
        assert 'href="/continue"' in response.text
    assert gating.rows(CharterAcceptance) == []
    assert "step_submission_refused" in gating.actions()


def test_a_replayed_submission_changes_nothing(browser, make, rp, gating):
    gating.charter()
    account = make.account(charter_accepted=False, preferences_done=False)
    charter_page = browser.sign_in(account, start=authorize(browser, rp))
    form = {"csrf_token": _csrf(charter_page.text), "flow": _hidden(charter_page.text, "flow"),
            "charter": _hidden(charter_page.text, "charter"), "accept": "y"}
    assert browser.submit_page({"accept": "y"}).request.path == "/preferences"
    # Replayed while the request goes on: back to the plan, no second acceptance.
    replay = browser.client.post("/charte", data=form)
    assert replay.status_code == 302 and replay.location.endswith("/continue")
    browser.page = browser.get("/continue")
    assert "code" in at_rp(browser.submit_page({}), rp)
    # Replayed after the code was issued: the request is over, a clear page, no code.
    replay = browser.client.post("/charte", data=form)
    assert replay.status_code == 400 and "plus valable" in replay.text
    assert len(gating.rows(CharterAcceptance)) == 1
    assert gating.actions().count("oidc_code_issued") == 1


def test_a_step_submitted_for_another_accounts_request_is_refused(app, browser, make, rp,
                                                                  gating):
    gating.charter()
    victim = make.account(charter_accepted=False)
    victim_browser = Browser(app.test_client())
    victim_page = victim_browser.sign_in(victim, start=authorize(victim_browser, rp))
    attacker = make.account(first_name="Alex", charter_accepted=False)
    own_page = browser.sign_in(attacker, start=authorize(browser, rp))
    response = browser.client.post("/charte", data={
        "csrf_token": _csrf(own_page.text), "flow": _hidden(victim_page.text, "flow"),
        "charter": _hidden(victim_page.text, "charter"), "accept": "y"})
    assert response.status_code == 400 and "plus valable" in response.text
    assert gating.rows(CharterAcceptance) == []
    # The victim's request is untouched and still needs the victim's own answer.
    assert "code" in at_rp(victim_browser.submit_page({"accept": "y"}), rp)


def test_a_page_left_open_across_a_change_of_account_is_refused(browser, make, rp, gating):
    gating.charter()
    first = make.account(charter_accepted=False)
    old_page = browser.sign_in(first, start=authorize(browser, rp))
    # Another tab: sign out, and sign in as someone else (the charter page stays open).
    browser.submit("/deconnexion", {}, page_html=old_page.text)
    second = make.account(first_name="Sacha", charter_accepted=False)
    new_page = browser.sign_in(second, start=authorize(browser, rp))
    response = browser.client.post("/charte", data={
        "csrf_token": _csrf(new_page.text), "flow": _hidden(old_page.text, "flow"),
        "charter": _hidden(old_page.text, "charter"), "accept": "y"})
    assert response.status_code == 400 and "plus valable" in response.text
    assert gating.rows(CharterAcceptance) == []


def test_an_expired_request_gives_a_clear_page_and_nothing(app, browser, make, rp, gating):
    gating.charter()
    page = browser.sign_in(make.account(charter_accepted=False), start=authorize(browser, rp))
    store = app.extensions["idp"]["store"]
    with browser.client.session_transaction() as sess:
        store.delete("pending:" + sess["pending_id"])  # what the TTL does
    response = browser.submit_page({"accept": "y"}, follow=False)
    assert response.status_code == 400
    assert "Votre demande a expiré" in response.text and "Se connecter" in response.text
    assert 'href="/"' in response.text  # a way to start again
    assert gating.rows(CharterAcceptance) == []
    assert "oidc_code_issued" not in gating.actions()
    # The family can go on to its home page (the charter still due there).
    assert browser.get("/").request.path == "/charte"
