"""J5 consent, OIDC and SAML: what the RP will receive in plain French, remembered per RP
and claim set, asked again for more, skipped for trusted RPs, forced by prompt=consent;
refusal is access_denied (OIDC) or RequestDenied (SAML); prompt=none / IsPassive."""
from __future__ import annotations

import base64
from html import unescape

import pytest

from idp.models import Consent, RefreshToken

from ..support.gating import at_rp, authorize
from ..support.oidc import query
from ..support.saml import post_form, send

PARENT_EDUCATION = "pour chaque élève rattaché à votre compte"


@pytest.fixture
def third_party(make):
    """An RP that is not the school's own service: consent is asked."""
    return make.oidc_client(name="Soutien scolaire", trusted=False,
                            redirect_uris=["https://soutien.example/cb"])


def test_consent_lists_what_the_rp_receives_and_is_remembered(browser, make, third_party,
                                                              gating):
    parent = make.account(with_pupils=1)
    page = browser.sign_in(parent, start=authorize(browser, third_party))
    assert page.request.path == "/consentement"
    assert "Soutien scolaire souhaite accéder à vos informations" in page.text
    for sentence in ("Un identifiant technique qui vous représente",
                     "Vos nom et prénom, et votre identifiant de connexion",
                     "Votre adresse électronique", PARENT_EDUCATION):
        assert sentence in page.text, sentence
    assert "Autoriser" in page.text and "Refuser" in page.text
    assert "code" in at_rp(browser.submit_page({"allow": "1"}), third_party)
    [consent] = gating.rows(Consent, account_id=parent.id)
    assert consent.rp_key == f"oidc:{third_party.client_id}"
    assert sorted(consent.claims) == ["education", "email", "openid", "profile"]
    assert "consent_granted" in gating.actions()
    # Remembered: the next request for the same claims goes straight to the RP.
    assert at_rp(authorize(browser, third_party), third_party)
    browser.logout()
    assert at_rp(browser.sign_in(parent, start=authorize(browser, third_party)), third_party)


def test_asking_for_more_asks_again(browser, make, third_party, gating):
    pupil = make.account(profile="pupil", first_name="Lou", class_name="4e B")
    browser.sign_in(pupil, start=authorize(browser, third_party, scope="openid profile"))
    page = browser.page
    assert "adresse électronique" not in page.text
    assert at_rp(browser.submit_page({"allow": "1"}), third_party)
    assert at_rp(authorize(browser, third_party, scope="openid"), third_party)  # less: fine
    page = authorize(browser, third_party, scope="openid profile education")
    assert page.request.path == "/consentement"
    assert "Ton profil (élève), ton académie, ton établissement et ta classe" in page.text
    assert at_rp(browser.submit_page({"allow": "1"}), third_party)
    [consent] = gating.rows(Consent, account_id=pupil.id)
    assert sorted(consent.claims) == ["education", "openid", "profile"]


def test_only_registered_scopes_are_asked_about(browser, make, gating):
    rp = make.oidc_client(trusted=False, scopes=["openid", "profile"],
                          redirect_uris=["https://minimal.example/cb"])
    page = browser.sign_in(make.account(), start=authorize(browser, rp))
    assert page.request.path == "/consentement"
    assert "Votre adresse électronique" not in page.text and PARENT_EDUCATION not in page.text
    browser.submit_page({"allow": "1"})
    assert sorted(gating.rows(Consent)[0].claims) == ["openid", "profile"]


def test_trusted_rp_skips_consent_but_prompt_consent_forces_it(browser, make, rp, gating):
    account = make.account()
    # factories' RPs are trusted
    assert at_rp(browser.sign_in(account, start=authorize(browser, rp)), rp)
    assert gating.rows(Consent) == []
    page = authorize(browser, rp, prompt="consent")
    assert page.request.path == "/consentement"
    assert "code" in at_rp(browser.submit_page({"allow": "1"}), rp)
    assert at_rp(authorize(browser, rp), rp)


def test_prompt_consent_asks_even_when_remembered(browser, make, third_party):
    account = make.account()
    browser.sign_in(account, start=authorize(browser, third_party))
    assert at_rp(browser.submit_page({"allow": "1"}), third_party)
    page = authorize(browser, third_party, prompt="consent")
    assert page.request.path == "/consentement"
    assert at_rp(browser.submit_page({"allow": "1"}), third_party)
    assert at_rp(authorize(browser, third_party), third_party)  # forced once, not forever


def test_refusal_returns_access_denied_and_issues_nothing(app, browser, make, third_party,
                                                         gating):
    account = make.account()
    browser.sign_in(account, start=authorize(browser, third_party, state="etat-42"))
    response = browser.submit_page({"deny": "1"}, follow=False)
    result = at_rp(response, third_party)
    assert result["error"] == "access_denied" and "code" not in result
    assert result["state"] == "etat-42" and result["iss"] == "http://localhost"
    assert gating.rows(Consent) == [] and gating.rows(RefreshToken) == []
    assert "consent_refused" in gating.actions() and "oidc_code_issued" not in gating.actions()
    # The request is over: the plan no longer holds it, a replay of the form is refused.
    again = browser.submit_page({"allow": "1"}, follow=False)
    assert again.status_code == 400 and "code" not in (again.location or "")
    assert browser.client.get("/continue").status_code in (302, 400)
    assert "oidc_code_issued" not in gating.actions()


def test_a_form_without_an_answer_is_told(browser, make, third_party):
    browser.sign_in(make.account(), start=authorize(browser, third_party))
    page = browser.submit_page({}, follow=False)
    assert page.status_code == 400 and "Choisissez « Autoriser » ou « Refuser »." in page.text


def test_prompt_none_names_the_step_that_needs_the_family(browser, make, third_party, rp,
                                                          gating):
    account = make.account()
    # signed in through a trusted RP
    assert at_rp(browser.sign_in(account, start=authorize(browser, rp)), rp)
    result = query(authorize(browser, third_party, prompt="none").location)
    assert result["error"] == "consent_required" and result["state"] == "st-123"
    gating.charter("2027-01")
    result = query(authorize(browser, rp, prompt="none").location)
    assert result["error"] == "interaction_required"
    assert gating.actions().count("oidc_code_issued") == 1  # the trusted RP's, before


# -- SAML ----------------------------------------------------------------------------------
def _saml_sign_in(browser, sp, account, **kw):
    req_id, args = sp.authn_request(**kw)
    page = browser.follow(send(browser.client, args))
    if page.request.path == "/choisir-profil":
        page = browser.submit("/choisir-profil", {"profile": "parent", "academy": "nancy-metz"})
    if page.request.path == "/connexion":
        page = browser.submit("/connexion", {"identifier": account.identifier,
                                             "password": account.password})
    return req_id, page


def _status(page) -> str:
    _, fields = post_form(page.text)
    return base64.b64decode(fields["SAMLResponse"]).decode()


def test_saml_consent_is_asked_remembered_and_refusal_is_request_denied(
        browser, make, new_sp, gating):
    sp = new_sp()
    parent = make.account(with_pupils=1)
    req_id, page = _saml_sign_in(browser, sp, parent)
    assert page.request.path == "/consentement"
    assert "SP sp.example souhaite accéder à vos informations" in page.text
    for sentence in ("Un identifiant technique qui vous représente",
                     "Votre profil : élève ou représentant légal",
                     "Vos nom et prénom, et pour chaque élève rattaché à votre compte : son "
                     "identifiant technique et son établissement"):
        assert sentence in unescape(page.text), sentence
    # sn, givenName and displayName: the names in one sentence, not three; FrEduVecteur's
    # sentence says them and the school, so neither has a sentence of its own.
    assert "Votre nom" not in page.text and "Votre prénom" not in page.text
    assert "<li>Vos nom et prénom</li>" not in unescape(page.text)
    assert "L'établissement des élèves rattachés à votre compte" not in unescape(page.text)
    refused = browser.submit_page({"deny": "1"})
    xml = _status(refused)
    assert "urn:oasis:names:tc:SAML:2.0:status:RequestDenied" in xml and "Assertion" not in xml
    assert gating.rows(Consent) == []

    req_id, page = _saml_sign_in(browser, sp, parent)
    assert page.request.path == "/consentement"
    answered = browser.submit_page({"allow": "1"})
    assert sp.consume(answered.text, req_id).name_id.text
    [consent] = gating.rows(Consent)
    assert consent.rp_key == f"saml:{sp.entity_id}" and "FrEduCtId" in consent.claims
    # Remembered: the next AuthnRequest is answered at once.
    req_id, args = sp.authn_request()
    page = send(browser.client, args)
    assert page.status_code == 200 and sp.consume(page.text, req_id).name_id.text


def test_the_consent_page_says_tu_to_a_pupil(browser, make, third_party, new_sp):
    """A pupil reads "tu" on the whole page, the sentences of what is shared included
    (OIDC scopes and SAML attributes); a parent reads "vous" (the tests above)."""
    pupil = make.account(profile="pupil", first_name="Lou", class_name="4e B")
    page = browser.sign_in(pupil, start=authorize(browser, third_party,
                                                  scope="openid profile email"))
    text = unescape(page.text)
    assert page.request.path == "/consentement"
    for words in ("Soutien scolaire souhaite accéder à tes informations",
                  "Si tu autorises, ce service recevra",
                  "Un identifiant technique qui te représente auprès de ce service (il ne "
                  "contient ni ton nom ni ton mot de passe)",
                  "Tes nom et prénom, et ton identifiant de connexion",
                  "Ton adresse électronique",
                  "Ton mot de passe n'est jamais transmis",
                  "Si tu refuses, tu retourneras sur ce service"):
        assert words in text, words
    assert " vous " not in text.split("<main", 1)[1] and "Votre" not in text
    _, page = _saml_sign_in(browser, new_sp(), pupil)  # signed in: straight to consent
    text = unescape(page.text)
    for words in ("SP sp.example souhaite accéder à tes informations",
                  "Ton profil : élève ou représentant légal",
                  "Tes nom et prénom, ton identifiant technique et ton établissement"):
        assert words in text, words
    assert "Votre" not in text


def test_saml_is_passive_with_consent_pending_is_no_passive(browser, make, new_sp, rp):
    sp = new_sp()
    account = make.account()
    # an SSO session exists
    assert at_rp(browser.sign_in(account, start=authorize(browser, rp)), rp)
    req_id, args = sp.authn_request(is_passive="true")
    page = send(browser.client, args)
    assert "urn:oasis:names:tc:SAML:2.0:status:NoPassive" in _status(page)


def test_a_saml_sp_marked_trusted_skips_consent(browser, make, new_sp, gating):
    from tests.support.cli import run_json

    sp = new_sp()
    parent = make.account(with_pupils=1)
    settings = browser.client.application.config
    result = run_json({k: settings[k] for k in (
        "ISSUER", "SECRET_KEY", "TOTP_SEALING_KEYS", "SMS_CODE_KEY", "PAIRWISE_SALT",
        "DATABASE_URL", "KEYS_DIR", "STORE_PATH", "STORE_PREFIX",
        "REDIS_URL", "TESTING") if settings.get(k) is not None},
        "clients", "trust", f"saml:{sp.entity_id}")
    assert result["trusted"] is True
    req_id, page = _saml_sign_in(browser, sp, parent)
    assert page.request.path != "/consentement"
    assert sp.consume(page.text, req_id).name_id.text
    assert gating.rows(Consent) == []
