"""SAML endpoints. Thin: requests.py checks, the sign-in engine decides, adapter.py answers.

HTTP-POST messages arrive in a cross-site POST, which does not carry our SameSite=Lax
session cookie: they are checked there, kept in the store under a one-use key, and the
browser is sent (303) to a GET on this site that does carry it. Nothing in the POST
touches the session, so it cannot replace the family's SSO session cookie.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import asdict

from flask import Blueprint, Response, redirect, render_template, request, url_for
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from ..audit import record, record_paced
from ..extensions import store
from ..signin.forms import LogoutForm
from ..signin.engine import begin
from ..signin.pending import expired_page
from ..signin.session import current_account
from . import logout, logout_chain
from .adapter import idp
from .requests import (SamlRequestError, decode, find_sp, parse_authn_request,
                       parse_logout_request)

log = logging.getLogger(__name__)
bp = Blueprint("saml", __name__, url_prefix="/saml")
HANDOFF_SECONDS = 120


@bp.errorhandler(SamlRequestError)
def refused(exc: SamlRequestError):
    """A request we cannot answer (no SP to send an error Response to, or none we may
    trust): our page (tu/vous), the sign-in's or, at any step of the single logout, the
    logout's; the reason for the operators only (log and audit trail, paced: anyone can
    send these), never shown."""
    logout_step = (request.endpoint or "").startswith("saml.slo_")
    log.info("SAML %s refused: %s", "logout request" if logout_step else "request",
             exc.reason)
    record_paced("saml_request_refused", target=exc.sp.entity_id[:128] if exc.sp else None,
                 reason=exc.reason[:200])
    page = "errors/logout_refused.html" if logout_step else "errors/sign_in_refused.html"
    return render_template(page), 400


@bp.get("/metadata")
def metadata():
    return Response(idp().metadata_xml(), mimetype="application/samlmetadata+xml")


def _handoff(kind: str, data: dict, endpoint: str):
    """Keep checked data for the cookie-bearing GET that follows a cross-site POST."""
    key = secrets.token_urlsafe(24)
    store().set(f"saml:{kind}:{key}", data, HANDOFF_SECONDS)
    return redirect(url_for(endpoint, key=key), code=303)


def _take(kind: str) -> dict | None:
    key = request.args.get("key", "")
    return store().take(f"saml:{kind}:{key}") if 0 < len(key) <= 64 else None


# -- single sign-on ---------------------------------------------------------------------
@bp.get("/sso/redirect")
def sso_redirect():
    a = request.args
    incoming = decode(a.get("SAMLRequest"), BINDING_HTTP_REDIRECT, a.get("RelayState"),
                      a.get("SigAlg"), a.get("Signature"))
    return _start(asdict(parse_authn_request(idp(), incoming)))


@bp.post("/sso/post")
def sso_post():
    f = request.form
    incoming = decode(f.get("SAMLRequest"), BINDING_HTTP_POST, f.get("RelayState"))
    return _handoff("authn", asdict(parse_authn_request(idp(), incoming)), "saml.sso_resume")


@bp.get("/sso/continue")
def sso_resume():
    info = _take("authn")
    if info is None:
        return expired_page()
    return _start(info)


def _start(info: dict):
    """The checked request goes to the sign-in engine (adapter.begin, then the plan)."""
    return begin("saml", info)


# -- single logout ----------------------------------------------------------------------
def _logout_request(binding: str, values) -> dict:
    incoming = decode(values.get("SAMLRequest"), binding, values.get("RelayState"),
                      values.get("SigAlg"), values.get("Signature"))
    sp, _server, req, signed = parse_logout_request(idp(), incoming)
    return logout.essentials(sp, req, binding, values.get("RelayState"), signed)


@bp.get("/slo/redirect")
def slo_redirect():
    if "SAMLRequest" not in request.args:  # a LogoutResponse: the chain goes on
        return logout_chain.receive(idp(), BINDING_HTTP_REDIRECT, request.args)
    return _logout(_logout_request(BINDING_HTTP_REDIRECT, request.args))


@bp.post("/slo/post")
def slo_post():
    if "SAMLRequest" not in request.form:  # cross-site, no cookie: the chain needs none
        return logout_chain.receive(idp(), BINDING_HTTP_POST, request.form)
    return _handoff("slo", _logout_request(BINDING_HTTP_POST, request.form), "saml.slo_resume")


@bp.get("/slo/continue")
def slo_resume():
    data = _take("slo")
    if data is None:
        return expired_page()
    return _logout(data)


def _logout(data: dict):
    if not logout.concerns_this_session(data):
        return logout.answer(idp(), data)  # nothing of ours to end here: Success
    if data["signed"]:
        logout.log_out(data)
        return logout_chain.begin(idp(), {"saml": data}, skip_sp=data["sp"])
    key = secrets.token_urlsafe(24)
    store().set(f"saml:slo-confirm:{key}", data, 600)
    sp = find_sp(data["sp"])
    return render_template("saml/confirm_logout.html", form=LogoutForm(), key=key,
                           client_name=sp.name)


def _kept_request():
    """The LogoutRequest kept for the confirmation page, taken (single use) when the form
    holds: (data, None); else (None, the answer to give instead)."""
    key = request.form.get("key", "")
    if not LogoutForm().validate_on_submit() or not 0 < len(key) <= 64:
        return None, redirect(url_for("home.index"))
    data = store().take(f"saml:slo-confirm:{key}")
    if data is None:
        return None, expired_page()
    if not logout.concerns_this_session(data):  # ended meanwhile (another tab): Success
        return None, logout.answer(idp(), data)
    return data, None


@bp.get("/slo/reponse/<key>")
def slo_answer(key: str):
    """After an upstream provider's logout (FranceConnect): SP A's LogoutResponse."""
    return logout_chain.answer_after_upstream(idp(), key)


@bp.post("/slo/confirm")
def slo_confirm():
    data, instead = _kept_request()
    if data is None:
        return instead
    logout.log_out(data)
    return logout_chain.begin(idp(), {"saml": data}, skip_sp=data["sp"])


@bp.post("/slo/rester")
def slo_stay():
    """« Ne pas me déconnecter »: nothing ends; the SP that asked is told so (Responder,
    RequestDenied) and the family goes back to it."""
    data, instead = _kept_request()
    if data is None:
        return instead
    record("saml_logout_declined", actor=current_account().identifier, target=data["sp"][:128])
    return logout.answer(idp(), data, declined=True)
