"""Single logout (SP-initiated, HTTP-Redirect and HTTP-POST).

A LogoutRequest, once checked (idp/saml/requests.py), ends the IdP session when its
NameID is one we issued to that SP in this browser's session: `end_session()` then tells
every OIDC relying party of the session over the back channel (LOGOUT_LISTENERS), and the
browser goes through the front-channel chain of idp/saml/logout_chain.py: every other SAML
SP of the session with a SingleLogoutService gets a signed LogoutRequest (NameID and
SessionIndex it received) and answers a LogoutResponse, checked, before the next one.
At the end the SP that asked gets a signed LogoutResponse at the SLO endpoint of its
metadata (same binding when it has one): Success, with a PartialLogout second-level
status when an SP of the chain could not be logged out. The same chain runs when the
family logs out at the IdP itself or through OIDC RP-initiated logout.

A signed request is acted on at once. An unsigned one (from an SP that does not sign)
could be forged by any site, so the family confirms first (a POST with a CSRF token), or
chooses to stay signed in: the SP then gets a LogoutResponse saying so (Responder with the
RequestDenied second-level code), nothing ended. A request refused by the checks gets our
"Déconnexion impossible" page (400), its reason logged and audited, never shown.

What is not done: SOAP back-channel logout to SAML SPs (an SP listing only a SOAP
SingleLogoutService is not told and keeps its own session until it ends: the logout is
then answered as partial). Its assertions were short-lived (SAML_ASSERTION_MINUTES) and
the IdP session is gone, so it cannot sign the family in again without its password.
"""
from __future__ import annotations

from flask import redirect, render_template, session, url_for
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.saml import Issuer

from ..audit import record
from ..signin.session import current_account, end_session
from .requests import find_sp
from .responses import SESSION_KEY, SIGN_ALG, post_page
from .server import ALGORITHMS, SamlIdp


def essentials(sp, req, binding: str, relay_state: str | None, signed: bool) -> dict:
    """What answering the LogoutRequest needs, as JSON-safe data (kept in the store
    between the POST and the cookie-bearing GET)."""
    name_id = req.name_id.text if req.name_id is not None else None
    return {"sp": sp.entity_id, "request_id": req.id, "name_id": name_id,
            "session_indexes": [s.text for s in req.session_index or []],
            "binding": binding, "relay_state": relay_state, "signed": signed}


def concerns_this_session(data: dict) -> bool:
    """True when this browser is signed in and received that NameID from that SP."""
    if current_account() is None:
        return False
    return any(e["sp"] == data["sp"] and e["name_id"] == data["name_id"]
               for e in session.get(SESSION_KEY, []))


def log_out(data: dict) -> None:
    """End the IdP session (OIDC RPs notified back-channel by end_session)."""
    account = current_account()
    record("saml_logout", actor=account.identifier if account else None,
           target=data["sp"][:128])
    end_session()


def slo_endpoints(server, entity_id: str, binding: str) -> list[dict]:
    """The SP's SingleLogoutService endpoints for `binding` ([] when it lists none: pysaml2
    raises then)."""
    try:
        return server.metadata.single_logout_service(entity_id, binding, "spsso") or []
    except Exception:  # noqa: BLE001 - UnsupportedBinding, or metadata that did not load
        return []


def _status(partial: bool, declined: bool):
    """None (Success), Success/PartialLogout, or Responder/RequestDenied."""
    if declined:
        return samlp.Status(
            status_code=samlp.StatusCode(value=samlp.STATUS_RESPONDER, status_code=samlp.StatusCode(
                value=samlp.STATUS_REQUEST_DENIED)),
            status_message=samlp.StatusMessage(text="The user chose to stay signed in"))
    if partial:
        return samlp.Status(status_code=samlp.StatusCode(
            value=samlp.STATUS_SUCCESS, status_code=samlp.StatusCode(
                value=samlp.STATUS_PARTIAL_LOGOUT)))
    return None


def answer(idp: SamlIdp, data: dict, partial: bool = False, declined: bool = False):
    """The signed LogoutResponse to the SP, or our logged-out page when it has no SLO.
    `partial`: Success with the PartialLogout second-level code (SAML core 3.7.3.2: the
    logout could not be propagated to every SP of the session). `declined`: the family
    chose to stay signed in, nothing ended: Responder with the RequestDenied second-level
    code (SAML core 3.2.2.2), the protocol's "not logged out"."""
    sp = find_sp(data["sp"])
    server = idp.server_for(sp)
    other = BINDING_HTTP_POST if data["binding"] == BINDING_HTTP_REDIRECT else BINDING_HTTP_REDIRECT
    for binding in (data["binding"], other):
        services = slo_endpoints(server, sp.entity_id, binding)
        if services:
            endpoint = services[0]
            destination = endpoint.get("response_location") or endpoint["location"]
            break
    else:
        if declined:  # still signed in: the IdP's home page
            return redirect(url_for("home.index"))
        if partial:  # not "logged out of every service" when some SP was not
            return render_template("saml/logged_out_partial.html")
        return redirect(url_for("login.logged_out"))
    status_obj = _status(partial, declined)
    issuer = Issuer(text=idp.entity_id, format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity")
    common = dict(in_response_to=data["request_id"], destination=destination)
    if binding == BINDING_HTTP_REDIRECT:
        # Redirect binding: the query string is signed, not the XML (SAML bindings 3.4.4.1).
        message = server._status_response(samlp.LogoutResponse, issuer, status_obj,
                                          sign=False, **common)
        info = server.apply_binding(BINDING_HTTP_REDIRECT, str(message), destination,
                                    data.get("relay_state") or "", response=True, sign=True,
                                    sigalg=ALGORITHMS["signing_algorithm"])
        return redirect(dict(info["headers"])["Location"], code=303)
    message = server._status_response(samlp.LogoutResponse, issuer, status_obj, sign=True,
                                      **SIGN_ALG, **common)
    return post_page(destination, "SAMLResponse", str(message), data.get("relay_state"), sp.name)
