"""SAML SSO with a real pysaml2 SP (Saml2Client) against the IdP in process: bindings,
signatures, encryption, attributes per SP, NameIDs, ForceAuthn, IsPassive, SSO with OIDC."""
from __future__ import annotations

import base64
import calendar
import time
from datetime import date

from saml2 import BINDING_HTTP_POST
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.time_util import str_to_time

from idp.db import db
from idp.models import AuditEvent
from idp.saml.registry import set_enabled, remove
from tests.support.saml import attributes_of, post_form, send, sign_in_via


def test_metadata_is_signed_and_lists_both_bindings(client):
    xml = client.get("/saml/metadata").text
    assert "SignatureValue" in xml and "rsa-sha256" in xml and "validUntil" in xml
    for path in ("/saml/sso/redirect", "/saml/sso/post", "/saml/slo/redirect", "/saml/slo/post"):
        assert f"http://localhost{path}" in xml
    assert 'entityID="http://localhost/saml/metadata"' in xml
    assert "sha1" not in xml.lower()


def test_sso_redirect_signed_encrypted_response_with_attributes(browser, make, new_sp):
    sp = new_sp()
    parent = make.account(with_pupils=2)
    req_id, page = sign_in_via(browser, sp, parent)
    assert page.status_code == 200
    assert 'src="/static/js/saml-post.js"' in page.text
    assert "form-action 'self' https://sp.example" in page.headers["Content-Security-Policy"]
    result = sp.consume(page.text, req_id)
    assert "EncryptedAssertion" in result.raw_xml and parent.public_id not in result.raw_xml
    assert "aes256-gcm" in result.raw_xml and "rsa-oaep" in result.raw_xml
    assert result.assertion.signature is not None and result.response.signature is not None
    assert result.relay_state == "rs-1" and result.action == sp.acs
    names = attributes_of(result)
    assert names["FrEduCtId"] == [parent.public_id]
    assert names["FrEduCtPersonAffiliation"] == ["resp2d"]
    assert names["sn"] == ["Martin"] and names["givenName"] == ["Camille"]
    assert len(names["FrEduVecteur"]) == 2
    assert all(v.startswith("2|Martin|Camille|") and v.endswith("|0540042A")
               for v in names["FrEduVecteur"])
    assert names["FrEduCtEleveUAI"] == ["0540042A"]
    assert set(names) == {"FrEduCtId", "FrEduCtPersonAffiliation", "sn", "givenName",
                          "FrEduCtEleveUAI", "FrEduVecteur"}  # the "teleservices" profile
    assert result.name_id.format == NAMEID_FORMAT_PERSISTENT
    with browser.client.application.app_context():
        assert db.session.query(AuditEvent).filter_by(action="saml_response_issued").count() == 1


def test_assertion_conditions_audience_recipient_and_short_lifetime(browser, make, new_sp):
    sp = new_sp()
    account = make.account()
    req_id, page = sign_in_via(browser, sp, account)
    assertion = sp.consume(page.text, req_id).assertion
    audiences = [a.text for r in assertion.conditions.audience_restriction for a in r.audience]
    assert audiences == [sp.entity_id]
    data = assertion.subject.subject_confirmation[0].subject_confirmation_data
    assert data.recipient == sp.acs and data.in_response_to == req_id
    lifetime = calendar.timegm(str_to_time(assertion.conditions.not_on_or_after)) - time.time()
    assert 0 < lifetime <= 5 * 60
    assert assertion.authn_statement[0].session_index


def test_sso_post_binding_signed_request_assertion_only_signature_no_encryption(
        browser, make, new_sp):
    sp = new_sp(sign_requests=True, sign="assertion", encrypt=False)
    account = make.account()
    req_id, args = sp.authn_request(BINDING_HTTP_POST)
    answer = browser.client.post(args["url"], data=args["data"])
    # A cross-site POST does not carry the session cookie: checked, then a 303 to a GET.
    assert answer.status_code == 303 and "/saml/sso/continue?key=" in answer.location
    _, page = sign_in_via(browser, sp, account, BINDING_HTTP_POST)
    result = sp.consume(page.text, _)
    assert result.response.signature is None and result.assertion.signature is not None
    assert "EncryptedAssertion" not in result.raw_xml


def test_response_signature_only(browser, make, new_sp):
    sp = new_sp(sign="response")
    sp.client.config.setattr("sp", "want_assertions_signed", False)
    sp.client.want_assertions_signed = False
    sp.client.want_response_signed = True
    req_id, page = sign_in_via(browser, sp, make.account())
    result = sp.consume(page.text, req_id)
    assert result.response.signature is not None and result.assertion.signature is None


def test_acs_index_picks_the_registered_endpoint(browser, make, new_sp):
    sp = new_sp()
    req_id, page = sign_in_via(browser, sp, make.account(), assertion_consumer_service_index="2")
    assert post_form(page.text)[0] == sp.acs + "2"
    assert sp.consume(page.text, req_id).action == sp.acs + "2"


def test_attributes_are_filtered_per_sp_and_birth_date_only_when_registered(
        browser, make, new_sp):
    minimal = new_sp("minimal.example", attributes="minimal")
    ent = new_sp("ent.example", attributes="ent,FrEduCtDateNaissance")
    pupil = make.account(profile="pupil", class_name="4e B", birth_date=date(2012, 3, 14))
    req_id, page = sign_in_via(browser, minimal, pupil)
    assert set(attributes_of(minimal.consume(page.text, req_id))) == {"FrEduCtId"}
    req_id, page = sign_in_via(browser, ent, pupil)
    names = attributes_of(ent.consume(page.text, req_id))
    assert names["FrEduCtDateNaissance"] == ["2012-03-14"]
    assert names["FrEduCtPersonAffiliation"] == ["eleve2d"]
    assert names["FrEduVecteur"] == [f"4|Martin|Camille|{pupil.public_id}|0540042A"]
    assert names["FrEduCtRefId"] == [f"{{AAF}}nancy-metz|0540042A|{pupil.public_id}"]
    assert names["ENTEleveClasses"] == ["0540042A$4e B"]
    assert names["ENTPersonProfils"] == ["National_ELV"]


def test_persistent_name_id_is_stable_per_sp_and_differs_between_sps(browser, make, new_sp):
    one, two = new_sp("one.example"), new_sp("two.example")
    account = make.account()
    first = [one.consume(p.text, r).name_id.text
             for r, p in [sign_in_via(browser, one, account) for _ in range(2)]]
    req_id, page = sign_in_via(browser, two, account)
    other = two.consume(page.text, req_id).name_id.text
    assert first[0] == first[1] and other != first[0]
    assert account.public_id not in (first[0], other)  # opaque, not the FrEduCtId


def test_transient_name_id_changes_every_time(browser, make, new_sp):
    sp = new_sp()
    account = make.account()
    ids = []
    for _ in range(2):
        req_id, page = sign_in_via(browser, sp, account, nameid_format=NAMEID_FORMAT_TRANSIENT)
        result = sp.consume(page.text, req_id)
        assert result.name_id.format == NAMEID_FORMAT_TRANSIENT
        ids.append(result.name_id.text)
    assert ids[0] != ids[1]


def test_unsupported_name_id_format_gets_invalid_name_id_policy_at_the_acs(
        browser, make, new_sp):
    sp = new_sp()
    req_id, page = sign_in_via(browser, sp, make.account(),
                               nameid_format=NAMEID_FORMAT_EMAILADDRESS)
    action, fields = post_form(page.text)
    assert action == sp.acs
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert "InvalidNameIDPolicy" in xml and "Assertion" not in xml


def test_signed_in_browser_gets_a_response_without_any_step(browser, make, new_sp):
    sp = new_sp()
    account = make.account()
    first_id, first = sign_in_via(browser, sp, account)  # first visit: every step once
    sp.consume(first.text, first_id)
    req_id, args = sp.authn_request()
    page = send(browser.client, args)  # one request, answered at once
    assert page.status_code == 200
    assert sp.consume(page.text, req_id).name_id.text


def test_force_authn_asks_for_the_password_again(browser, make, new_sp):
    sp = new_sp()
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    req_id, args = sp.authn_request(force_authn="true")
    page = browser.follow(send(browser.client, args))
    assert page.request.path == "/connexion"
    page = browser.submit("/connexion", {"identifier": account.identifier,
                                         "password": account.password})
    page = browser.through_steps()
    assert sp.consume(page.text, req_id).name_id.text


def test_is_passive_without_session_answers_no_passive_at_the_acs(browser, make, new_sp):
    sp = new_sp()
    req_id, args = sp.authn_request(is_passive="true")
    page = send(browser.client, args)
    assert page.status_code == 200
    action, fields = post_form(page.text)
    assert action == sp.acs and fields["RelayState"] == "rs-1"
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert "urn:oasis:names:tc:SAML:2.0:status:NoPassive" in xml
    assert "Signature" in xml


def test_is_passive_with_session_signs_in_silently(browser, make, new_sp):
    sp = new_sp()
    account = make.account()
    req_id, page = sign_in_via(browser, sp, account)
    sp.consume(page.text, req_id)
    req_id, args = sp.authn_request(is_passive="true")
    assert sp.consume(send(browser.client, args).text, req_id).name_id.text


def test_oidc_session_serves_saml_without_a_password(flow, rp, parent, browser, new_sp):
    flow.code_for(rp, parent)  # signed in through OpenID Connect
    sp = new_sp()
    req_id, args = sp.authn_request()
    page = browser.follow(send(browser.client, args))
    assert page.request.path not in ("/connexion", "/choisir-profil")
    page = browser.through_steps()
    assert sp.consume(page.text, req_id).name_id.text


def test_saml_session_serves_oidc_without_a_password(flow, rp, parent, browser, new_sp):
    sp = new_sp()
    req_id, page = sign_in_via(browser, sp, parent)
    sp.consume(page.text, req_id)
    page = flow.authorize(rp)
    assert page.status_code == 302
    assert not page.location.startswith(("/connexion", "/choisir-profil", "http://localhost/connexion"))


def test_disabled_or_removed_sp_stops_at_once(app, browser, make, new_sp):
    sp = new_sp()
    account = make.account()
    req_id, page = sign_in_via(browser, sp, account)
    assert sp.consume(page.text, req_id)
    with app.app_context():
        set_enabled(sp.entity_id, False)
        db.session.commit()
    _, args = sp.authn_request()
    page = send(browser.client, args)
    assert page.status_code == 400 and "SAMLResponse" not in page.text
    assert "Demande de connexion invalide" in page.text
    with app.app_context():
        set_enabled(sp.entity_id, True)
        db.session.commit()
    req_id, args = sp.authn_request()
    assert send(browser.client, args).status_code == 200
    with app.app_context():
        remove(sp.entity_id)
        db.session.commit()
    _, args = sp.authn_request()
    assert send(browser.client, args).status_code == 400


def test_refusing_answers_request_denied_at_the_acs(browser, make, new_sp):
    """Refused at the consent page (the SP is not trusted): RequestDenied at its ACS."""
    sp = new_sp()
    _, args = sp.authn_request()
    page = browser.sign_in(make.account(), start=send(browser.client, args))
    assert page.request.path == "/consentement"
    answer = browser.submit_page({"deny": "1"}, follow=False)
    action, fields = post_form(answer.text)
    assert action == sp.acs
    assert "RequestDenied" in base64.b64decode(fields["SAMLResponse"]).decode()
