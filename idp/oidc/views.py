"""OpenID Connect endpoints. Thin: Authlib validates, the sign-in plan decides."""
from __future__ import annotations

import logging

from authlib.common.urls import add_params_to_uri
from flask import Blueprint, redirect, render_template, request, url_for

from ..audit import record_paced
from ..relying_parties import find, key_for
from ..signin.forms import LogoutForm
from ..signin.engine import begin
from ..signin.session import after_logout, current_account
from ..signin.session import end_session as end_sso_session
from .logout import LogoutRequestError, check_logout_request

bp = Blueprint("oidc", __name__, url_prefix="/oidc")
log = logging.getLogger(__name__)


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    """Validated by the adapter (Authlib) before anything else, then the engine's."""
    return begin("oidc")


@bp.route("/logout", methods=["GET", "POST"])
def end_session():
    """RP-initiated logout: confirm with a POST (CSRF) before ending the session."""
    args = request.values
    try:
        client, target = check_logout_request(args.get("id_token_hint"),
                                              args.get("post_logout_redirect_uri"),
                                              args.get("client_id"))
    except LogoutRequestError as exc:
        # As a refused authorization request: the reason logged and audited (paced:
        # anyone can send these), never shown.
        log.info("OIDC logout request refused: %s", exc)
        record_paced("oidc_logout_refused",
                     target=(exc.client_id or args.get("client_id") or "")[:128] or None,
                     reason=str(exc)[:200])
        return render_template("errors/logout_refused.html"), 400
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
                           stay_url=_home_of(client),
                           hidden={k: args[k] for k in ("id_token_hint", "post_logout_redirect_uri",
                                                       "state", "client_id") if args.get(k)})


def _home_of(client) -> str | None:
    """« Ne pas me déconnecter »: the home page of the service that asked (the one "Mes
    services" links to), not its post_logout_redirect_uri, which means "logged out"."""
    party = find(key_for("oidc", client.client_id)) if client else None
    return party.home_url if party else None
