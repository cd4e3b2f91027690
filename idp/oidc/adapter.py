"""OpenID Connect as a ProtocolAdapter: how the sign-in engine answers a client.

Authlib validated the authorization request before it became a PendingAuthorization
(views.authorize); here it is answered: a code (fulfil), access_denied (deny), or the
OpenID Connect error naming why a passive request cannot be answered.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidRequestError
from authlib.oidc.core.errors import (ConsentRequiredError, InteractionRequiredError,
                                      LoginRequiredError, RequestNotSupportedError,
                                      RequestURINotSupportedError)
from flask import current_app, redirect, render_template, request
from sqlalchemy import select

from ..audit import record, record_paced
from ..db import db
from ..languages import from_ui_locales
from ..models import RefreshToken
from ..signin import PendingAuthorization, ProtocolAdapter
from ..signin.adapter import RequestRefused
from ..signin.session import note_relying_party
from . import claims_request, logout, tokens
from .claims_request import ClaimsRequestError
from .server import rebuild_request
from .supported import ACR_VALUES

log = logging.getLogger(__name__)

# The step a passive request (prompt=none) would need -> the error it gets.
PASSIVE_ERRORS = {"wayf": LoginRequiredError, "login": LoginRequiredError,
                  "consent": ConsentRequiredError}


class UnmetAuthenticationRequirementsError(OAuth2Error):
    """OpenID Connect Unmet Authentication Requirements 1.0: the level asked (acr_values,
    an essential acr claim) is not one this provider offers, or not one this account can
    reach without interaction (prompt=none, no second factor)."""

    error = "unmet_authentication_requirements"


def server():
    return current_app.extensions["idp"]["oidc_server"]


def authorization_error(error: OAuth2Error, state: str | None = None):
    """Redirect with the error only to a redirect URI Authlib has verified for the
    client; otherwise our own page (never an open redirect), the reason logged and
    audited (paced: anyone can send these), never shown. RFC 9207: with `iss`."""
    if error.redirect_uri:
        params = [("error", error.error)]
        if error.description:
            params.append(("error_description", error.description))
        if state or error.state:
            params.append(("state", state or error.state))
        params.append(("iss", current_app.config["ISSUER"]))
        return redirect(add_params_to_uri(error.redirect_uri, params))
    # No verified redirect URI: our page (tu/vous), the reason (Authlib's English text)
    # for the operators only, as for a refused SAML request.
    reason = f"{error.error}: {error.description}" if error.description else error.error
    log.info("OIDC authorization request refused: %s", reason)
    record_paced("oidc_request_refused",
                 target=(request.values.get("client_id") or "")[:128] or None,
                 reason=reason[:200])
    return render_template("errors/sign_in_refused.html"), 400


def _unsupported(params: dict) -> OAuth2Error | None:
    """Request objects are not supported (discovery says so): OpenID Core 6.1/6.2 want
    the error on the redirect URI rather than the request going on without them."""
    if "request" in params:
        return RequestNotSupportedError(description="request objects are not supported")
    if "request_uri" in params:
        return RequestURINotSupportedError(description="request_uri is not supported")
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _int_or_none(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise ValueError(raw)
    return int(raw)


class OidcAdapter(ProtocolAdapter):
    protocol = "oidc"

    def begin(self, source, account):
        """The authorization request of this HTTP request, checked by Authlib (client,
        exact redirect URI, PKCE S256) before anything else."""
        try:
            grant = server().get_consent_grant(end_user=account)
        except OAuth2Error as error:
            raise RequestRefused(authorization_error(error)) from error
        params = request.values.to_dict()
        prompts = set(params.get("prompt", "").split())
        try:
            max_age = _int_or_none(params.get("max_age"))
        except ValueError:
            raise RequestRefused(authorization_error(InvalidRequestError(
                description="max_age must be a number of seconds",
                redirect_uri=grant.redirect_uri, state=params.get("state")))) from None
        client = grant.request.client
        refused = _unsupported(params)
        try:
            asked = claims_request.parse(params.get("claims"), client.row.scopes)
            acr = claims_request.required_acr(params.get("acr_values"), asked)
        except ClaimsRequestError as error:
            refused = InvalidRequestError(description=str(error))
        except ValueError:
            refused = UnmetAuthenticationRequirementsError(
                description=f"acr_values offered: {' '.join(ACR_VALUES)}")
        if refused is not None:  # on the redirect URI Authlib verified, with state
            refused.redirect_uri = grant.redirect_uri
            raise RequestRefused(authorization_error(refused, params.get("state")))
        from_ui_locales(params.get("ui_locales"))
        scopes = grant.request.scope.split()
        return PendingAuthorization(
            protocol="oidc", client_id=client.get_client_id(), client_name=client.row.name,
            params=params, force_login="login" in prompts, force_consent="consent" in prompts,
            max_age=max_age, passive="none" in prompts, login_hint=params.get("login_hint"),
            ui_locales=params.get("ui_locales"), profile_hint=params.get("profile_hint"),
            academy_hint=params.get("academy_hint"), acr=acr,
            requested=scopes + [s for s in claims_request.implied_scopes(asked)
                                if s not in scopes],
            return_origin=_origin(grant.redirect_uri)), grant

    def _grant(self, pending, account, validated):
        """The grant validated in this request, or the saved request validated again
        (the client may have been disabled or changed while the family went through)."""
        if validated is not None:
            return validated
        return server().get_consent_grant(rebuild_request(pending.params), end_user=account)

    def fulfil(self, pending, account, validated=None):
        try:
            grant = self._grant(pending, account, validated)
        except OAuth2Error as error:
            return authorization_error(error)
        response = server().issue_code(grant, account)
        note_relying_party("oidc", pending.client_id)
        record("oidc_code_issued", actor=account.identifier, target=pending.client_id,
               scope=grant.request.scope)
        return response

    def deny(self, pending, account):
        """access_denied to the redirect URI verified for the client, nothing issued."""
        try:
            grant = self._grant(pending, account, None)
        except OAuth2Error as error:
            return authorization_error(error)
        record("oidc_access_denied", actor=getattr(account, "identifier", None),
               target=pending.client_id)
        return authorization_error(AccessDeniedError(redirect_uri=grant.redirect_uri),
                                   pending.params.get("state"))

    def passive_error(self, pending, step, validated=None):
        try:
            grant = self._grant(pending, None, validated)
        except OAuth2Error as error:
            return authorization_error(error)
        error = PASSIVE_ERRORS.get(step.name, InteractionRequiredError)
        if step.name == "second_factor" and pending.acr == "mfa":
            error = UnmetAuthenticationRequirementsError  # the level asked needs a page
        return authorization_error(error(redirect_uri=grant.redirect_uri),
                                   pending.params.get("state"))

    def revoke(self, account, client_id=None):
        """Refresh tokens of the client's grants (every client's when None)."""
        if client_id is None:
            tokens.revoke_account_tokens(account.id)
            return
        grant_ids = db.session.scalars(select(RefreshToken.grant_id).distinct().where(
            RefreshToken.account_id == account.id, RefreshToken.client_id == client_id)).all()
        for grant_id in grant_ids:
            tokens.revoke_grant(grant_id)

    def session_ended(self, snapshot: dict) -> None:
        logout.notify_backchannel(snapshot)  # back-channel logout to the session's RPs
