"""SAML single logout (Redirect and POST): the IdP session ends, OIDC RPs of the session
are told over the back channel, the SP gets a signed LogoutResponse."""
from __future__ import annotations

import base64
import threading
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from idp.notify.delivery import deliver_due
from tests.support.saml import decode_redirect_query, post_form, send, sign_in_via


@pytest.fixture
def signed_in(browser, make, new_sp):
    """A browser signed in at one SP: (sp, account, NameID, SessionIndex)."""
    sp = new_sp()
    account = make.account()
    req_id, page = sign_in_via(browser, sp, account)
    result = sp.consume(page.text, req_id)
    return sp, account, result.name_id, result.assertion.authn_statement[0].session_index


def signed_out(browser) -> bool:
    return browser.get("/").request.path in ("/connexion", "/choisir-profil")


def test_signed_redirect_logout_ends_the_session_and_answers_signed(browser, signed_in):
    sp, _, name_id, session_index = signed_in
    _, args = sp.logout_request(name_id, session_index, BINDING_HTTP_REDIRECT)
    answer = send(browser.client, args)
    assert answer.status_code == 303 and answer.location.startswith(sp.slo + "?")
    query = decode_redirect_query(answer.location)
    assert query["RelayState"] == "bye" and query["Signature"]
    assert query["SigAlg"].endswith("rsa-sha256")
    response = sp.client.parse_logout_request_response(
        query["SAMLResponse"], BINDING_HTTP_REDIRECT)
    assert response.response.status.status_code.value.endswith(":Success")
    assert signed_out(browser)


def test_signed_post_logout_ends_the_session_and_posts_a_signed_response(browser, signed_in):
    sp, _, name_id, session_index = signed_in
    _, args = sp.logout_request(name_id, session_index, BINDING_HTTP_POST)
    answer = browser.client.post(args["url"], data=args["data"])
    assert answer.status_code == 303 and "/saml/slo/continue" in answer.location
    page = browser.follow(answer)
    action, fields = post_form(page.text)
    assert action == sp.slo and fields["RelayState"] == "bye"
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert "LogoutResponse" in xml and "SignatureValue" in xml and ":Success" in xml
    response = sp.client.parse_logout_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
    assert response is not None
    assert signed_out(browser)


def test_unsigned_logout_request_is_confirmed_first(browser, signed_in):
    sp, _, name_id, _ = signed_in
    _, args = sp.logout_request(name_id, sign=False)
    page = send(browser.client, args)
    assert page.status_code == 200 and "Se déconnecter ?" in page.text
    assert not signed_out(browser)  # nothing ended by a request anyone could forge
    browser.page = page
    key = post_form(page.text)[1]["key"]
    answer = browser.submit("/saml/slo/confirm", {"key": key}, follow=False)
    assert answer.status_code == 303 and answer.location.startswith(sp.slo)
    assert signed_out(browser)


def test_logout_for_another_name_id_leaves_this_session(browser, signed_in):
    sp, _, _, _ = signed_in
    _, args = sp.logout_request("somebody-else")
    answer = send(browser.client, args)
    assert answer.status_code == 303 and answer.location.startswith(sp.slo)
    assert not signed_out(browser)


def test_logout_from_unknown_sp_is_refused(browser, signed_in, idp_metadata, tmp_path):
    from tests.support.saml import PySamlSP

    stranger = PySamlSP(tmp_path / "stranger", idp_metadata, host="stranger.example")
    _, args = stranger.logout_request(signed_in[2])
    page = send(browser.client, args)
    assert page.status_code == 400 and not signed_out(browser)


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        _Receiver.received.append(parse_qs(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def backchannel_rp(make):
    """An OIDC RP whose back-channel logout endpoint is a real local HTTP server."""
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/backchannel-logout"
    rp = make.oidc_client(redirect_uris=["https://ent.example/callback"],
                          backchannel_logout_uri=url)
    yield rp
    server.shutdown()


def test_saml_logout_notifies_the_oidc_rps_of_the_session(app, flow, browser, make, new_sp,
                                                         backchannel_rp):
    parent = make.account()
    flow.code_for(backchannel_rp, parent)  # ENT over OpenID Connect
    sp = new_sp()
    req_id, args = sp.authn_request()
    page = browser.follow(send(browser.client, args))
    assert page.request.path != "/connexion"  # SSO: no password
    result = sp.consume(browser.through_steps().text, req_id)
    _, args = sp.logout_request(result.name_id, binding=BINDING_HTTP_REDIRECT)
    assert send(browser.client, args).status_code == 303
    with app.app_context():
        assert deliver_due().sent == 1  # the outbox worker's pass
    assert len(_Receiver.received) == 1 and "logout_token" in _Receiver.received[0]
    assert signed_out(browser)


def _redirect_xml(location: str) -> str:
    """The XML of a message sent over the Redirect binding (base64 of raw DEFLATE)."""
    return zlib.decompress(base64.b64decode(decode_redirect_query(location)["SAMLResponse"]),
                           -15).decode()


def test_staying_signed_in_tells_the_sp_nothing_was_ended(browser, signed_in):
    """« Ne pas me déconnecter » on the confirmation of an unsigned request: the SP gets a
    signed LogoutResponse Responder/RequestDenied (SAML core 3.2.2.2: not logged out)."""
    sp, _, name_id, _ = signed_in
    req_id, args = sp.logout_request(name_id, sign=False)
    page = send(browser.client, args)
    assert "Ne pas me déconnecter" in page.text and 'formaction="/saml/slo/rester"' in page.text
    browser.page = page
    key = post_form(page.text)[1]["key"]
    answer = browser.submit("/saml/slo/rester", {"key": key}, follow=False)
    assert answer.status_code == 303 and answer.location.startswith(sp.slo + "?")
    query = decode_redirect_query(answer.location)
    assert query["RelayState"] == "bye" and query["Signature"]
    xml = _redirect_xml(answer.location)
    assert "LogoutResponse" in xml and f'InResponseTo="{req_id}"' in xml
    assert 'StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"' in xml
    assert 'Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"' in xml
    assert ":Success" not in xml
    assert not signed_out(browser)
    # The key was single use: neither answer can be given again.
    again = browser.submit("/saml/slo/confirm", {"key": key}, follow=False)
    assert again.status_code == 400 and not signed_out(browser)


def test_staying_signed_in_needs_the_csrf_token(browser, signed_in):
    sp, _, name_id, _ = signed_in
    _, args = sp.logout_request(name_id, sign=False)
    key = post_form(send(browser.client, args).text)[1]["key"]
    answer = browser.client.post("/saml/slo/rester", data={"key": key})
    assert answer.status_code == 400 and answer.location is None  # nothing sent to the SP
    assert not signed_out(browser)


def test_staying_signed_in_answers_the_sp_even_with_a_step_due(browser, signed_in, gating):
    """A charter published since the sign-in (a step now due) does not hold back the SP's
    answer: « Ne pas me déconnecter » is a protocol endpoint, not a gated page."""
    sp, _, name_id, _ = signed_in
    gating.charter("2027-01")
    _, args = sp.logout_request(name_id, sign=False)
    page = send(browser.client, args)
    browser.page = page
    key = post_form(page.text)[1]["key"]
    answer = browser.submit("/saml/slo/rester", {"key": key}, follow=False)
    assert answer.status_code == 303 and answer.location.startswith(sp.slo + "?")
    assert "RequestDenied" in _redirect_xml(answer.location)
    assert not signed_out(browser)
