"""Front-channel logout chain: the session's other SAML SPs are logged out one after
the other through the browser (SAML 2.0 profiles 4.4, as Shibboleth and SimpleSAMLphp do).

When the IdP session ends (a LogoutRequest from SP A, the family's own « Se déconnecter »,
OIDC RP-initiated logout), `capture` (a LOGOUT_LISTENERS hook) keeps the session's SAML
entries (SP, NameID, SessionIndex) for the request; the view then calls `begin`. Each other
SP with a SingleLogoutService (HTTP-Redirect preferred, else HTTP-POST) is sent a signed
LogoutRequest (RSA-SHA256: the query string for Redirect, the XML for POST) carrying the
NameID and SessionIndex it received. Its LogoutResponse comes back to our SLO endpoint and
`receive` checks it (Issuer is the SP asked, signature when present and required when the
SP's metadata asks for signed requests, Destination, IssueInstant, InResponseTo equal to
the request we sent) before moving on. At the end comes the final answer: SP A's
LogoutResponse (Success, with a PartialLogout second-level code when an SP could not be
logged out), or the page or URL the logout was meant to reach.

The chain lives in the store, not in the session (already ended, and HTTP-POST responses
arrive cross-site without our cookie): one key per step, random, sent as the RelayState of
the LogoutRequest (SPs echo it, SAML bindings 3.4.3) and taken (single use) when the answer
comes back, for at most CHAIN_SECONDS. An SP without SLO endpoint, disabled since, or
answering a failure, a bad signature or a wrong InResponseTo makes the logout partial,
never an error page. The IdP session is over before the first LogoutRequest leaves, so an
SP that never answers traps nobody: the IdP's pages, its logged-out page included, work.
"""
from __future__ import annotations

import logging
import secrets

from flask import current_app, g, redirect, render_template, url_for
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.saml import NameID
from saml2.sigver import verify_redirect_signature
from saml2.time_util import in_a_while
from saml2.validate import valid_instance

from ..audit import record
from ..extensions import store
from ..keys import KeysUnavailable
from ..signin.pending import expired_page
from ..signin.registry import adapters
from .logout import answer, slo_endpoints
from .requests import REDIRECT_SIG_ALGS, SamlRequestError, _check_common, decode, find_sp
from .responses import SESSION_KEY, SIGN_ALG, post_page
from .server import ALGORITHMS, SLO_PATHS, SamlIdp

log = logging.getLogger(__name__)
CHAIN_SECONDS = 300   # how long one SP has to answer
MAX_SPS = 20          # a session never holds more; bounds the state kept
REASON_USER = "urn:oasis:names:tc:SAML:2.0:logout:user"
LOGOUT_RESPONSE = "{urn:oasis:names:tc:SAML:2.0:protocol}LogoutResponse"
_PREFIX = "saml:chain:"


def capture(snapshot: dict) -> None:
    """LOGOUT_LISTENERS hook: keep the ending session's SAML entries for `begin`."""
    account = g.get("current_account")
    g.saml_logout = {"entries": list(snapshot.get(SESSION_KEY) or [])[:MAX_SPS],
                     "actor": account.identifier if account else None}


def begin(idp: SamlIdp, final: dict, skip_sp: str | None = None):
    """Called right after `end_session()`: the first LogoutRequest of the chain, or the
    final answer at once when there is no other SP. `final` is {"saml": <data of SP A's
    LogoutRequest>} or {"url": <where to go>}."""
    captured = g.pop("saml_logout", None) or {"entries": [], "actor": None}
    queue = [e for e in captured["entries"] if e.get("sp") != skip_sp]
    state = {"final": final, "queue": queue, "partial": False, "actor": captured["actor"]}
    if "saml" in final:
        _through_upstream(state)
    return _advance(idp, state)


def _through_upstream(state: dict) -> None:
    """An SP's own logout of a session that came from an upstream provider
    (FranceConnect): before SP A's LogoutResponse, the browser goes through that
    provider's logout (its URL is decided now, in the request that ended the session),
    which comes back to `slo_answer` for the response."""
    key = secrets.token_urlsafe(24)
    back = url_for("saml.slo_answer", key=key)
    via = back
    for adapter in adapters():
        via = adapter.logout_target(via)
    if via != back:
        state["via"] = {"key": key, "url": via}


def after_logout(url: str):
    """For logouts that are not SAML (the IdP's own page, OIDC): the chain, then `url`."""
    return begin(current_app.extensions["idp"]["saml"], {"url": url})


def _advance(idp: SamlIdp, state: dict):
    while state["queue"]:
        entry = state["queue"].pop(0)
        relay = secrets.token_urlsafe(24)
        try:
            sent = _send(idp, entry, relay)
        except (SamlRequestError, KeysUnavailable) as exc:  # disabled since, no keys
            log.info("SAML logout not propagated to %s: %s", entry.get("sp"), exc)
            sent = None
        if sent is None:
            _note_partial(state, entry.get("sp"), "no usable SingleLogoutService")
            continue
        response, awaiting = sent
        store().set(_PREFIX + relay, {**state, "awaiting": awaiting}, CHAIN_SECONDS)
        return response
    return _finish(idp, state)


def _send(idp: SamlIdp, entry: dict, relay: str):
    """The signed LogoutRequest to one SP (response, what we wait for), or None."""
    sp = find_sp(entry["sp"])
    server = idp.server_for(sp)
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        services = slo_endpoints(server, sp.entity_id, binding)
        if services:
            destination = services[0]["location"]
            break
    else:
        return None
    name_id = NameID(format=entry.get("format"), text=entry["name_id"],
                     name_qualifier=idp.entity_id, sp_name_qualifier=sp.entity_id)
    request_id, message = server.create_logout_request(
        destination, sp.entity_id, name_id=name_id, reason=REASON_USER,
        expire=in_a_while(minutes=CHAIN_SECONDS // 60),
        session_indexes=[entry["session_index"]] if entry.get("session_index") else None,
        sign=binding == BINDING_HTTP_POST, **SIGN_ALG)
    awaiting = {"sp": sp.entity_id, "request_id": request_id}
    if binding == BINDING_HTTP_REDIRECT:
        # Redirect binding: the query string is signed, not the XML (SAML bindings 3.4.4.1).
        info = server.apply_binding(BINDING_HTTP_REDIRECT, str(message), destination, relay,
                                    sign=True, sigalg=ALGORITHMS["signing_algorithm"])
        return redirect(dict(info["headers"])["Location"], code=303), awaiting
    return post_page(destination, "SAMLRequest", str(message), relay, sp.name), awaiting


def receive(idp: SamlIdp, binding: str, values):
    """A LogoutResponse at our SLO endpoint: checked, then the chain goes on."""
    relay = values.get("RelayState") or ""
    state = store().take(_PREFIX + relay) if 0 < len(relay) <= 64 else None
    if state is None:  # not (or no longer) a chain of ours: nothing to act on
        return redirect(url_for("login.logged_out"), code=303)
    awaiting = state.pop("awaiting")
    problem = _problem(idp, awaiting, binding, values, relay)
    if problem:
        _note_partial(state, awaiting["sp"], problem)
    return _advance(idp, state)


def _problem(idp: SamlIdp, awaiting: dict, binding: str, values, relay: str) -> str | None:
    """Why this LogoutResponse does not confirm the logout we asked for (None: it does)."""
    try:
        incoming = decode(values.get("SAMLResponse"), binding, relay, values.get("SigAlg"),
                          values.get("Signature"))
        if incoming.root.tag != LOGOUT_RESPONSE:
            return "not a LogoutResponse"
        if incoming.issuer != awaiting["sp"]:
            return f"Issuer {incoming.issuer!r} is not the SP asked"
        sp = find_sp(incoming.issuer)
        server = idp.server_for(sp)
        must = bool(sp.want_authn_requests_signed)
        signed_query = binding == BINDING_HTTP_REDIRECT and incoming.signature is not None
        if signed_query and not _query_signature_ok(server, sp, incoming):
            return "bad signature"
        message = server.sec.correctly_signed_logout_response(
            incoming.xml, must=must and binding == BINDING_HTTP_POST, origdoc=incoming.raw)
        signed = signed_query or message.signature is not None
        if must and not signed:
            return "unsigned, the SP's metadata wants signed messages"
        valid_instance(message)
        _check_common(message, sp, idp.issuer + SLO_PATHS[binding], signed)
        if message.in_response_to != awaiting["request_id"]:
            return "InResponseTo is not the request we sent"
        code = message.status.status_code.value if message.status is not None else None
        if code != samlp.STATUS_SUCCESS:
            return f"status {code}"
    except SamlRequestError as exc:
        return exc.reason
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds for bad input
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


def _query_signature_ok(server, sp, incoming) -> bool:
    if incoming.sigalg not in REDIRECT_SIG_ALGS:
        return False
    signed = {"SAMLResponse": incoming.raw, "SigAlg": incoming.sigalg,
              "Signature": incoming.signature}
    if incoming.relay_state is not None:
        signed["RelayState"] = incoming.relay_state
    certs = server.metadata.certs(sp.entity_id, "any", "signing")
    return any(verify_redirect_signature(signed, server.sec.sec_backend, cert)
               for _name, cert in certs)


def _note_partial(state: dict, sp: str | None, reason: str) -> None:
    log.info("SAML logout at %s not confirmed: %s", sp, reason)
    record("saml_logout_not_confirmed", actor=state.get("actor"),
           target=(sp or "")[:128] or None, reason=reason[:200])
    state["partial"] = True


def _finish(idp: SamlIdp, state: dict):
    final = state["final"]
    if "saml" in final:
        via = state.get("via")
        if via:
            store().set(_PREFIX + "answer:" + via["key"],
                        {"saml": final["saml"], "partial": state["partial"]}, CHAIN_SECONDS)
            return redirect(via["url"])
        return answer(idp, final["saml"], partial=state["partial"])
    if state["partial"] and final["url"] == url_for("login.logged_out"):
        return render_template("saml/logged_out_partial.html")
    return redirect(final["url"])


def answer_after_upstream(idp: SamlIdp, key: str):
    """Back from the upstream provider's logout: SP A's LogoutResponse (single use)."""
    data = store().take(_PREFIX + "answer:" + key) if 0 < len(key) <= 64 else None
    if data is None:
        return expired_page()
    return answer(idp, data["saml"], partial=data["partial"])
