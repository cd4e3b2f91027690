"""OpenID Connect endpoints. Thin: Authlib validates, the sign-in plan decides."""
from __future__ import annotations

from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import (Blueprint, current_app, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _

from ..errors import error_page
from ..signin.forms import LogoutForm
from ..signin import PendingAuthorization
from ..signin.engine import deny_pending, fulfil_pending, proceed
from ..signin.session import after_logout, current_account
from ..signin.session import end_session as end_sso_session
from .adapter import authorization_error, server
from .logout import LogoutRequestError, check_logout_request

bp = Blueprint("oidc", __name__, url_prefix="/oidc")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _int_or_none(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise ValueError(raw)
    return int(raw)


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    """Authlib validates the request (client, exact redirect URI, PKCE S256) before
    anything else; then it is the sign-in engine's (signin/engine.py)."""
    account = current_account()
    try:
        grant = server().get_consent_grant(end_user=account)
    except OAuth2Error as error:
        return authorization_error(error)
    params = request.values.to_dict()
    prompts = set(params.get("prompt", "").split())
    try:
        max_age = _int_or_none(params.get("max_age"))
    except ValueError:
        return authorization_error(InvalidRequestError(
            description="max_age must be a number of seconds",
            redirect_uri=grant.redirect_uri, state=params.get("state")))
    client = grant.request.client
    pending = PendingAuthorization(
        protocol="oidc", client_id=client.get_client_id(), client_name=client.row.name,
        params=params, force_login="login" in prompts, force_consent="consent" in prompts,
        max_age=max_age, passive="none" in prompts, login_hint=params.get("login_hint"),
        ui_locales=params.get("ui_locales"), profile_hint=params.get("profile_hint"),
        academy_hint=params.get("academy_hint"),
        requested=grant.request.scope.split(),
        return_origin=_origin(grant.redirect_uri))
    for locale in (params.get("ui_locales") or "").split():
        if locale[:2] in current_app.config["LANGUAGES"]:
            session["locale"] = locale[:2]
            break
    return proceed(pending, account, validated=grant)


@bp.get("/fulfil")
def fulfil():
    """Reached only through the gate: every step of the plan is done for this browser."""
    return fulfil_pending("oidc")


@bp.post("/deny")
def deny():
    """The family refused consent (gated like fulfil when posted directly, CSRF token
    required): access_denied, nothing issued."""
    return deny_pending("oidc")


@bp.route("/logout", methods=["GET", "POST"])
def end_session():
    """RP-initiated logout: confirm with a POST (CSRF) before ending the session."""
    args = request.values
    try:
        client, target = check_logout_request(args.get("id_token_hint"),
                                              args.get("post_logout_redirect_uri"),
                                              args.get("client_id"))
    except LogoutRequestError:
        return error_page(400, _("Déconnexion impossible"),
                          _("La demande de déconnexion envoyée par le service est invalide. "
                            "Vous pouvez vous déconnecter depuis la page d'accueil."))
    back = add_params_to_uri(target, [("state", args["state"])]) \
        if target and args.get("state") else target
    if current_account() is None:
        return redirect(back) if back else redirect(url_for("login.logged_out"))
    form = LogoutForm()
    if args.get("confirm") and form.validate_on_submit():
        end_sso_session()
        return after_logout(back or url_for("login.logged_out"))
    return render_template("login/confirm_logout.html", form=form,
                           client_name=client.row.name if client else None,
                           hidden={k: args[k] for k in ("id_token_hint", "post_logout_redirect_uri",
                                                       "state", "client_id") if args.get(k)})
