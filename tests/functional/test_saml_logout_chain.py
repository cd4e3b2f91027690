"""SAML single logout reaches the session's other SAML SPs (front-channel chain): each gets
a signed LogoutRequest that a real pysaml2 SP checks, its LogoutResponse moves the chain
on, and the SP that asked gets Success (PartialLogout when one could not be logged out)."""
from __future__ import annotations

import base64

import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.request import LogoutRequest
from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent

from tests.support.saml import ALGS_KW, decode_redirect_query, post_form, send, sign_in_via

PARTIAL = samlp.STATUS_PARTIAL_LOGOUT


def signed_in_at(browser, sp, account):
    """Sign in at `sp` with this browser: (NameID, SessionIndex) the SP received."""
    req_id, page = sign_in_via(browser, sp, account)
    result = sp.consume(page.text, req_id)
    return result.name_id, result.assertion.authn_statement[0].session_index


def signed_out(browser) -> bool:
    return browser.get("/").request.path in ("/connexion", "/choisir-profil")


class Received:
    """A LogoutRequest as the SP's SLO endpoint gets it, checked by pysaml2 with a
    signature required (query-string signature for Redirect, XML signature for POST)."""

    def __init__(self, sp, answer):
        if answer.status_code == 303:
            assert answer.location.startswith(sp.slo + "?"), answer.location
            values, self.binding = decode_redirect_query(answer.location), BINDING_HTTP_REDIRECT
        else:
            action, values = post_form(answer.text)
            assert answer.status_code == 200 and action == sp.slo, action
            self.binding = BINDING_HTTP_POST
        assert "SAMLRequest" in values, values
        self.sp, self.relay_state = sp, values.get("RelayState")
        xml = sp.client.unravel(values["SAMLRequest"], self.binding, LogoutRequest.msgtype)
        request = LogoutRequest(sp.client.sec, [sp.slo], timeslack=60)
        request.loads(xml, self.binding, origdoc=values["SAMLRequest"], must=True,
                      relay_state=self.relay_state, sigalg=values.get("SigAlg"),
                      signature=values.get("Signature"))
        assert request.verify(), "pysaml2 refused the LogoutRequest"
        self.message = request.message
        if self.binding == BINDING_HTTP_REDIRECT:
            assert values["SigAlg"].endswith("rsa-sha256")
        else:
            assert self.message.signature is not None

    @property
    def session_indexes(self) -> list[str]:
        return [s.text for s in self.message.session_index]

    def reply(self, sign=True, status=None, in_response_to=None, relay_state=None,
              binding=None) -> dict:
        """The SP's LogoutResponse, as transport arguments towards the IdP."""
        binding = binding or self.binding
        if in_response_to:
            self.message.id = in_response_to
        response = self.sp.client.create_logout_response(
            self.message, [binding], status=status, sign=sign and binding == BINDING_HTTP_POST,
            **ALGS_KW)
        url = self.sp.client.metadata.single_logout_service(
            self.sp.idp_entity, binding, "idpsso")[0]["location"]
        return self.sp.transport(binding, str(response), relay_state or self.relay_state,
                                 sign, url, field="SAMLResponse")


def final_response(sp, answer, binding=BINDING_HTTP_REDIRECT):
    """The LogoutResponse that finally reaches `sp` (the SP that asked), parsed by it."""
    if binding == BINDING_HTTP_REDIRECT:
        assert answer.status_code == 303 and answer.location.startswith(sp.slo + "?"), \
            (answer.status_code, answer.location, answer.text[:500])
        query = decode_redirect_query(answer.location)
        assert query["RelayState"] == "bye" and query["Signature"]
        raw = query["SAMLResponse"]
    else:
        action, fields = post_form(answer.text)
        assert action == sp.slo and fields["RelayState"] == "bye"
        raw = fields["SAMLResponse"]
    response = sp.client.parse_logout_request_response(raw, binding)
    assert response is not None
    return response.response


def not_confirmed(app) -> list[tuple[str, str]]:
    """(SP, reason) of every logout the chain could not confirm (audit events)."""
    with app.app_context():
        return [(e.target, e.details["reason"]) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "saml_logout_not_confirmed"))]


def second_level(status) -> str | None:
    inner = status.status_code.status_code
    return inner.value if inner is not None else None


@pytest.fixture
def two_sps(browser, make, new_sp):
    """A family signed in at SP A and SP B with one browser: (a, b, (nameid, index) x2)."""
    account = make.account()
    a, b = new_sp("sp-a.example"), new_sp("sp-b.example")
    return a, b, signed_in_at(browser, a, account), signed_in_at(browser, b, account)


def test_redirect_chain_logs_b_out_then_answers_a(app, browser, two_sps):
    a, b, (a_name_id, a_index), (b_name_id, b_index) = two_sps
    a_req_id, args = a.logout_request(a_name_id, a_index, BINDING_HTTP_REDIRECT)
    to_b = Received(b, send(browser.client, args))
    # SP B is asked for the very NameID and SessionIndex it received.
    assert to_b.message.name_id.text == b_name_id.text
    assert to_b.session_indexes == [b_index]
    assert to_b.message.issuer.text == a.idp_entity
    assert signed_out(browser)  # the IdP session ended before the chain went on
    final = final_response(a, browser.client.get(to_b.reply()["location"]))
    assert final.in_response_to == a_req_id
    assert final.status.status_code.value == samlp.STATUS_SUCCESS
    assert second_level(final.status) is None
    assert not_confirmed(app) == []


def test_post_chain_without_cookie(app, browser, make, new_sp):
    """SP B knows only HTTP-POST: the LogoutRequest is posted (XML signed), and its
    LogoutResponse, posted cross-site (no cookie), moves the chain on."""
    account = make.account()
    a, b = new_sp("sp-a.example"), new_sp("sp-b.example", slo_bindings=(BINDING_HTTP_POST,))
    a_name_id, a_index = signed_in_at(browser, a, account)
    b_name_id, _ = signed_in_at(browser, b, account)
    a_req_id, args = a.logout_request(a_name_id, a_index, BINDING_HTTP_POST)
    page = browser.follow(send(browser.client, args))
    to_b = Received(b, page)
    assert to_b.message.name_id.text == b_name_id.text
    cross_site = app.test_client()  # none of the family's cookies
    answer = send(cross_site, to_b.reply())
    final = final_response(a, answer, BINDING_HTTP_POST)
    assert final.in_response_to == a_req_id and second_level(final.status) is None
    assert signed_out(browser)


def test_sp_without_slo_is_skipped_and_logout_is_partial(app, browser, make, new_sp):
    account = make.account()
    a = new_sp("sp-a.example")
    mute = new_sp("sp-mute.example", slo_bindings=())
    c = new_sp("sp-c.example")
    a_name_id, a_index = signed_in_at(browser, a, account)
    signed_in_at(browser, mute, account)
    signed_in_at(browser, c, account)
    _, args = a.logout_request(a_name_id, a_index)
    to_c = Received(c, send(browser.client, args))  # the SP without SLO was passed over
    final = final_response(a, browser.client.get(to_c.reply()["location"]))
    assert final.status.status_code.value == samlp.STATUS_SUCCESS
    assert second_level(final.status) == PARTIAL
    assert not_confirmed(app) == [(mute.entity_id, "no usable SingleLogoutService")]


@pytest.mark.parametrize("spoil, reason", [
    ("in_response_to", "InResponseTo is not the request we sent"),
    ("signature", "bad signature"),
    ("status", "status urn:oasis:names:tc:SAML:2.0:status:Responder"),
    ("unsigned", "unsigned, the SP's metadata wants signed messages")])
def test_bad_logout_response_makes_the_logout_partial(app, browser, make, new_sp, spoil,
                                                      reason):
    account = make.account()
    a = new_sp("sp-a.example")
    # An SP that signs its requests (AuthnRequestsSigned): its answers must be signed too.
    b = new_sp("sp-b.example", sign_requests=True)
    a_name_id, a_index = signed_in_at(browser, a, account)
    signed_in_at(browser, b, account)
    _, args = a.logout_request(a_name_id, a_index)
    to_b = Received(b, send(browser.client, args))
    if spoil == "in_response_to":
        location = to_b.reply(in_response_to="_not-what-we-sent")["location"]
    elif spoil == "status":
        location = to_b.reply(status=samlp.Status(status_code=samlp.StatusCode(
            value=samlp.STATUS_RESPONDER)))["location"]
    elif spoil == "unsigned":
        location = to_b.reply(sign=False)["location"]
    else:
        location = to_b.reply()["location"]
        query = decode_redirect_query(location)
        bad = bytearray(base64.b64decode(query["Signature"]))
        bad[10] ^= 1
        location = location.replace(
            _encoded(query["Signature"]), _encoded(base64.b64encode(bytes(bad)).decode()))
    answer = browser.client.get(location)
    final = final_response(a, answer)
    assert second_level(final.status) == PARTIAL
    assert not_confirmed(app) == [(b.entity_id, reason)]
    assert signed_out(browser)


def _encoded(value: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(value)


def test_replayed_or_unknown_logout_response_changes_nothing(browser, two_sps, app):
    a, b, (a_name_id, a_index), _ = two_sps
    _, args = a.logout_request(a_name_id, a_index)
    to_b = Received(b, send(browser.client, args))
    location = to_b.reply()["location"]
    assert browser.client.get(location).location.startswith(a.slo)
    replay = browser.client.get(location)  # the step was used: nothing sent to A again
    assert replay.status_code == 303 and replay.location.endswith("/deconnecte")
    stranger = app.test_client().get(location.replace(
        to_b.relay_state, "inconnu"))
    assert stranger.status_code == 303 and stranger.location.endswith("/deconnecte")
    garbage = app.test_client().post("/saml/slo/post", data={
        "SAMLResponse": "pas du base64 !", "RelayState": "x" * 500})
    assert garbage.status_code == 303


def test_idp_logout_page_runs_the_chain(browser, make, new_sp):
    account = make.account()
    a, mute = new_sp("sp-a.example"), new_sp("sp-mute.example", slo_bindings=())
    a_name_id, _ = signed_in_at(browser, a, account)
    signed_in_at(browser, mute, account)
    page = browser.client.get("/")
    from tests.support.browser import csrf_token

    answer = browser.client.post("/deconnexion", data={"csrf_token": csrf_token(page.text)})
    to_a = Received(a, answer)
    assert to_a.message.name_id.text == a_name_id.text
    assert signed_out(browser)
    end = browser.client.get(to_a.reply()["location"])
    # SP "mute" has no SLO: the family is told, not promised a full logout.
    assert end.status_code == 200 and "pas confirmé votre déconnexion" in end.text


def test_idp_logout_with_every_sp_answering_ends_on_the_logged_out_page(browser, two_sps):
    a, b, _, _ = two_sps
    answer = browser.logout()
    to_a = Received(a, answer)
    to_b = Received(b, browser.client.get(to_a.reply()["location"]))
    end = browser.client.get(to_b.reply()["location"])
    assert end.status_code == 302 and end.location.endswith("/deconnecte")


def test_oidc_rp_initiated_logout_runs_the_chain_then_returns_to_the_rp(
        flow, rp, parent, browser, new_sp):
    sp = new_sp("sp-a.example")
    id_token = flow.tokens_for(rp, parent)["id_token"]
    name_id, _ = signed_in_at(browser, sp, parent)
    browser.page = browser.client.get("/oidc/logout", query_string={
        "id_token_hint": id_token, "post_logout_redirect_uri": "https://ent.example/"})
    answer = browser.submit("/oidc/logout", {
        "confirm": "1", "id_token_hint": id_token,
        "post_logout_redirect_uri": "https://ent.example/"}, follow=False)
    to_sp = Received(sp, answer)
    assert to_sp.message.name_id.text == name_id.text
    end = browser.client.get(to_sp.reply()["location"])
    assert end.status_code == 302 and end.location == "https://ent.example/"


def test_sp_asking_without_slo_endpoint_ends_on_the_partial_page(browser, make, new_sp):
    """Neither the SP that asked nor the other has an SLO endpoint: no LogoutResponse can
    go anywhere, and the family is not told it left every service."""
    account = make.account()
    a = new_sp("sp-a.example", slo_bindings=())
    mute = new_sp("sp-mute.example", slo_bindings=())
    a_name_id, a_index = signed_in_at(browser, a, account)
    signed_in_at(browser, mute, account)
    _, args = a.logout_request(a_name_id, a_index)
    end = send(browser.client, args)
    assert end.status_code == 200 and "pas confirmé votre déconnexion" in end.text
    assert signed_out(browser)
