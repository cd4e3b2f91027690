from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import format_datetime, gettext as _

from ...audit import record
from ...families import linked_pupils
from ..consent import service as consent
from ..consent.forms import WithdrawForm
from ...signin.account_sessions import end_account_sessions
from ...signin.forms import LogoutForm
from ...signin.session import after_logout, current_account, end_session
from . import service, sessions
from .forms import EverywhereForm

bp = Blueprint("home", __name__)
bp.after_app_request(sessions.list_new_session)


def _when(timestamp: float) -> str:
    # The date pattern is translated too: "23 novembre 2026 à 14:03" / "23 November 2026 at 14:03".
    return format_datetime(datetime.fromtimestamp(timestamp, timezone.utc),
                           _("d MMMM y 'à' HH:mm"))


@bp.get("/")
def index():
    """Reached through the gate: the account is signed in and every step is done."""
    account = current_account()
    open_sessions = [{**s, "since": _when(s["started"])} for s in sessions.open_sessions(account)]
    return render_template("home/index.html", account=account,
                           pupils=linked_pupils(account),
                           services=service.reachable_services(),
                           sessions=open_sessions, consents=consent.consents_of(account),
                           logout_form=LogoutForm(), everywhere_form=EverywhereForm(),
                           withdraw_form=WithdrawForm())


@bp.post("/deconnexion-partout")
def logout_everywhere():
    """End every session of the account (this one too) and stop the services' tokens (the
    page promises every device: an app left signed in on a lost phone too); RPs hear it
    by back channel."""
    if not EverywhereForm().validate_on_submit():
        return redirect(url_for("home.index"))
    account = current_account()
    others = end_account_sessions(account, reason="logout_everywhere")
    record("logout_everywhere", actor=account.identifier, other_sessions=others)
    end_session()
    # As « Se déconnecter »: this browser's SAML SPs and FranceConnect's session too.
    return after_logout(url_for("login.logged_out"))


@bp.post("/autorisations/<int:consent_id>/retirer")
def withdraw_consent(consent_id: int):
    """Withdraw one consent of this account (someone else's: 404, nothing changes)."""
    if not WithdrawForm().validate_on_submit():
        return redirect(url_for("home.index"))
    if not consent.withdraw(current_account(), consent_id):
        abort(404)
    flash(_("Autorisation retirée : ce service vous la demandera à nouveau."), "info")
    return redirect(url_for("home.index") + "#consents-title")
