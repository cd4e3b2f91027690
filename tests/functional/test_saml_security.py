"""SECURITY.md's SAML rules, each refused on our own error page (never a response posted
anywhere; the reason in the audit trail, not on the page): ACS not in metadata, signatures, Destination, IssueInstant, replay, XXE and
entity expansion, oversized and inflating messages, RelayState, unknown SP."""
from __future__ import annotations

import base64
import time
import zlib
from urllib.parse import urlencode

import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.time_util import instant
from saml2.xmldsig import SIG_RSA_SHA1
from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent

from tests.support.saml import post_form, send, sign_in_via

AUTHN = ('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
         'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" '
         'IssueInstant="{instant}" Destination="http://localhost/saml/sso/{binding}">'
         '<saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>')


@pytest.fixture
def refused(app, client):
    """Checks a request refused on our page: 400, nothing sent anywhere, and the reason
    (naming `texts`) in the audit trail, not on the page (no library text for families).
    Then `client` sends the next one from another address: one address gets one row a
    minute per SP (idp/audit.py, record_paced; tests/functional/test_refusals_paced.py)."""
    seen = []

    def check(page, *texts):
        assert page.status_code == 400, page.text[:600]
        assert page.location is None and "SAMLResponse" not in page.text
        assert "Demande de connexion invalide" in page.text
        with app.app_context():
            reasons = [e.details["reason"] for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "saml_request_refused")
                .order_by(AuditEvent.id))]
        assert len(reasons) == len(seen) + 1, reasons  # this request's, once
        seen.append(reasons[-1])
        # What the page says (its <main>; the header's language links repeat the query).
        said = page.text.split('<main id="main"', 1)[1].split("</main>", 1)[0]
        assert reasons[-1] not in page.text
        for text in texts:
            assert text in reasons[-1], reasons[-1]
            assert text not in said, said
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{len(seen)}"
    return check


def deflated(xml: str) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(compressor.compress(xml.encode()) + compressor.flush()).decode()


def raw_authn(issuer: str, **kw) -> str:
    return AUTHN.format(id=kw.get("id", f"_r{time.time_ns()}"), issuer=issuer,
                        binding=kw.get("binding", "redirect"),
                        instant=kw.get("instant", instant()))


@pytest.fixture
def sp(new_sp):
    return new_sp()


def test_acs_url_not_in_metadata_is_refused(client, sp, refused):
    _, args = sp.authn_request(assertion_consumer_service_url="https://evil.example/acs")
    refused(send(client, args), "AssertionConsumerService")
    _, args = sp.authn_request(assertion_consumer_service_index="7")
    refused(send(client, args), "AssertionConsumerService")


def test_acs_url_not_in_metadata_is_refused_even_signed(client, new_sp, refused):
    sp = new_sp("signed.example", sign_requests=True)
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        _, args = sp.authn_request(binding, assertion_consumer_service_url="https://evil.example/acs")
        refused(send(client, args), "AssertionConsumerService")


def test_unsigned_request_refused_when_the_sp_signs(client, new_sp, refused):
    sp = new_sp("signed.example", sign_requests=True)
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        _, args = sp.authn_request(binding, sign=False)
        refused(send(client, args), "IncorrectlySigned")


def test_tampered_redirect_signature_is_refused(client, new_sp, refused):
    sp = new_sp("signed.example", sign_requests=True)
    _, args = sp.authn_request(relay_state="good")
    args["query"] = args["query"].replace("RelayState=good", "RelayState=evil")
    refused(send(client, args))


def test_sha1_redirect_signature_is_refused(client, new_sp, refused):
    sp = new_sp("signed.example", sign_requests=True)
    req_id, req = sp.client.create_authn_request("http://localhost/saml/sso/redirect")
    info = sp.client.apply_binding(BINDING_HTTP_REDIRECT, str(req),
                                   "http://localhost/saml/sso/redirect", "rs", sign=True,
                                   sigalg=SIG_RSA_SHA1)
    refused(client.get(dict(info["headers"])["Location"].replace("http://localhost", "")),
            "RSA-SHA256")


def test_replayed_request_id_is_refused(client, sp, refused):
    _, args = sp.authn_request()
    assert send(client, args).status_code == 302
    refused(send(client, args), "replay")


def test_wrong_destination_is_refused(client, sp, refused):
    _, args = sp.authn_request(destination="https://other-idp.example/sso")
    refused(send(client, args), "Destination")


def test_stale_or_future_issue_instant_is_refused(client, sp, refused):
    for shift in (-15 * 60, +15 * 60):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + shift))
        xml = raw_authn(sp.entity_id, instant=stamp)
        refused(client.get("/saml/sso/redirect?" + urlencode({"SAMLRequest": deflated(xml)})),
                "IssueInstant")


def test_xxe_is_refused_and_nothing_is_read(client, sp, refused):
    xml = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           + raw_authn("&x;", binding="post"))
    page = client.post("/saml/sso/post",
                       data={"SAMLRequest": base64.b64encode(xml.encode()).decode()})
    refused(page, "DOCTYPE")
    assert "root:" not in page.text


def test_entity_expansion_is_refused_quickly(client, sp, refused):
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    xml = f'<!DOCTYPE r [{entities}]>' + raw_authn(sp.entity_id, binding="post").replace(
        sp.entity_id, "&j;")
    start = time.perf_counter()
    page = client.post("/saml/sso/post",
                       data={"SAMLRequest": base64.b64encode(xml.encode()).decode()})
    refused(page, "XML")  # libxml2 stops the amplification before the DOCTYPE check
    assert time.perf_counter() - start < 1.0


def test_oversized_message_is_refused(client, sp, refused):
    padding = "<!-- " + "x" * 100_000 + " -->"
    xml = raw_authn(sp.entity_id, binding="post").replace("<saml:Issuer>", padding + "<saml:Issuer>")
    refused(client.post("/saml/sso/post",
                        data={"SAMLRequest": base64.b64encode(xml.encode()).decode()}),
            "too large")


def test_inflation_bomb_is_refused_with_bounded_memory(client, sp, refused):
    bomb = raw_authn(sp.entity_id).replace("<saml:Issuer>", "<!--" + " " * 20_000_000 + "-->"
                                           + "<saml:Issuer>")
    encoded = deflated(bomb)
    assert len(encoded) < 60_000  # small on the wire, 20 MB once inflated
    refused(client.get("/saml/sso/redirect?" + urlencode({"SAMLRequest": encoded})),
            "too large")


def test_garbage_is_refused(client, sp, refused):
    refused(client.get("/saml/sso/redirect?SAMLRequest=%%%"), )
    refused(client.get("/saml/sso/redirect"), "no SAML message")
    refused(client.post("/saml/sso/post", data={"SAMLRequest": "bm90IHhtbA=="}))


def test_unknown_sp_is_refused(client, refused):
    refused(client.get("/saml/sso/redirect?" + urlencode(
        {"SAMLRequest": deflated(raw_authn("https://unknown.example/sp"))})), "unknown")


def test_relay_state_is_only_echoed_to_the_registered_acs(browser, make, sp):
    account = make.account()
    req_id, page = sign_in_via(browser, sp, account, relay_state="https://evil.example/steal")
    action, fields = post_form(page.text)
    assert action == sp.acs and fields["RelayState"] == "https://evil.example/steal"
    assert page.location is None
    assert "evil.example" not in page.headers["Content-Security-Policy"]


def test_oversized_relay_state_is_refused(client, sp, refused):
    _, args = sp.authn_request(relay_state="r" * 2000)
    refused(send(client, args), "RelayState")


def test_a_logout_request_is_not_an_authn_request(client, sp, refused):
    req_id, args = sp.logout_request("someone", binding=BINDING_HTTP_REDIRECT)
    query = args["query"]
    refused(client.get("/saml/sso/redirect?" + query), "AuthnRequest")
