"""J4b pages: the button's flow (/franceconnect/connexion -> FranceConnect ->
/franceconnect/retour), the first link's steps (sub-plan LINK: mobile, code, pupils,
password of an existing account, stopped) and the return from FranceConnect's logout.
The account pages of a FranceConnected account (choose a password, unlink) are in
account_views.py, on the same blueprint (blueprint.py)."""
from __future__ import annotations

import logging
from functools import partial

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ...audit import record
from ...errors import error_page
from ...languages import current_locale
from ...models import Account, AccountState
from ...signin.plan import current_context
from ...signin.session import current_account
from ...signin.steps import step_done, step_page
from ...upstream.franceconnect import client
from ...upstream.franceconnect.logout import SESSION_KEY, take_logout
from .. import birth_dates, sms_steps
from ..account import reauth
from ..login.forms import LoginForm
from ..new_device import service as new_device
from ..signup.forms import pupils_form_class
from ..signup.messages import refusal_message
from ..transactions import browser_owner, session_owner
from ..wayf.service import current_choice
from . import accounts, linked, service
from .account_views import status as _status
from .blueprint import bp
from .forms import ExistingPasswordForm, PhoneForm, StartForm
from .plan import LINK
from .state import LinkTransaction, StopReason

ABOUT_URL = "https://franceconnect.gouv.fr/"
log = logging.getLogger(__name__)


@bp.app_context_processor
def _helpers():
    return {"franceconnect_shown": _shown, "franceconnect_about_url": ABOUT_URL,
            "franceconnect_start_form": StartForm, "franceconnect_status": _status,
            "account_origin": linked.origin,
            "franceconnect_linked": lambda account: linked.link_of(account) is not None}


def _shown(choice) -> bool:
    """The button is for the "Représentant légal" profile only."""
    return client.enabled() and choice is not None and choice.profile == "parent"


def _login_page(status: int, problem: str):
    """The sign-in page, with the password form, and why FranceConnect did not work."""
    ctx = current_context()
    form = LoginForm(formdata=None)
    return render_template("login/form.html", form=form, choice=current_choice(ctx),
                           pending=ctx.pending, franceconnect_problem=problem), status


def _unavailable(reason: str):
    # Logged, not audited: a 503 rolls the request's transaction back (idp/db.py).
    log.warning("FranceConnect unavailable: %s", reason[:200])
    return _login_page(503, "unavailable")


def _refused(reason: str):
    record("franceconnect_refused", reason=reason)
    return error_page(400, _("Connexion avec FranceConnect refusée"),
                      _("La réponse reçue de FranceConnect n'a pas pu être vérifiée : "
                        "personne n'a été connecté. Recommencez depuis la page de "
                        "connexion, ou connectez-vous avec votre identifiant et votre "
                        "mot de passe."))


@bp.post("/connexion")
def start():
    """"S'identifier avec FranceConnect": off to FranceConnect with a fresh state."""
    form = StartForm()
    if not client.enabled():
        return redirect(url_for("login.form"))
    if not form.validate_on_submit():
        return redirect(url_for("login.form"))
    purpose = "reauth" if form.purpose.data == "reauth" and current_account() else "signin"
    try:
        suite = (form.suite.data or "")[:64] or None
        return redirect(client.authorization_url(browser_owner(), purpose, suite), code=303)
    except client.Unavailable as exc:
        return _unavailable(exc.reason)


@bp.get("/retour")
def callback():
    """FranceConnect's answer: checked (client.py), then the account or the first link."""
    if not client.enabled():
        return redirect(url_for("login.form"))
    try:
        flow = client.take_flow(request.args.get("state"), session_owner())
    except client.Refused as exc:
        return _refused(exc.reason)
    if request.args.get("error"):
        record("franceconnect_cancelled", error=str(request.args["error"])[:64])
        return _login_page(200, "cancelled")
    try:
        identity = client.redeem(request.args.get("code"), flow)
    except client.Unavailable as exc:
        return _unavailable(exc.reason)
    except client.Refused as exc:
        return _refused(exc.reason)
    if flow.get("purpose") == "reauth":
        return _reauthenticated(identity, flow.get("suite"))
    found = service.linked_account(identity.sub)
    if found is not None:
        link, account = found
        if account.state == AccountState.deactivated:
            record("login_refused_deactivated", actor=account.identifier, method="fc")
            return render_template("login/deactivated.html"), 403
        service.note_use(link)
        _sign_in(account, identity.id_token)
        return step_done()
    LinkTransaction(owner=browser_owner(), identity=identity.to_dict()).save()
    record("franceconnect_link_started")
    return redirect(url_for("franceconnect.phone"))


def _sign_in(account, id_token: str, *, notify: bool = True) -> None:
    """Signed in through FranceConnect (`notify`: see new_device.sign_in_here)."""
    new_device.sign_in_here(account, method="fc", notify=notify)
    session[SESSION_KEY] = {"id_token": id_token}  # for FranceConnect's session/end


@bp.get("/deconnexion")
def logged_out():
    """Back from FranceConnect's session/end: on to where the logout was going."""
    target = take_logout(request.args.get("state"))
    return redirect(target or url_for("login.logged_out"))


# --- The first link (sub-plan LINK) ------------------------------------------------

def _page(name: str, tx, status: int = 200, **context):
    return render_template(f"franceconnect/{name}.html", tx=tx, binding=LINK.binding(tx),
                           identity=tx.identity, **context), status


def _changing_number(tx) -> bool:
    return tx.step == "code"  # "Modifier le numéro" from the code page


@bp.route("/telephone", methods=["GET", "POST"])
@step_page("phone", on_demand=_changing_number, plan=LINK)
def phone(tx):
    """The mobile number the school holds (again from the code page, to correct it: a
    new code goes to the new number, within the same limits)."""
    form = PhoneForm()
    if not form.is_submitted():
        if tx.raw_phone:
            form.phone.data, form.region.data = tx.raw_phone, tx.region
        return _page("phone", tx, form=form)
    if not form.validate_on_submit():
        return _page("phone", tx, 400, form=form)
    tx.phone, tx.raw_phone, tx.region = form.e164, form.phone.data, form.region.data
    outcome = service.send_code_to(tx, current_locale())
    if not outcome.sent:
        form.phone.errors = list(form.phone.errors) + [refusal_message(outcome)]
        return _page("phone", tx, 429, form=form)
    return redirect(url_for("franceconnect.code"))


@bp.route("/code", methods=["GET", "POST"])
@step_page("code", plan=LINK)
def code(tx):
    return sms_steps.enter_code(tx, page=_page, verify=service.verify_code,
                                done=LINK.resume)


@bp.post("/code/renvoyer")
@step_page("code", plan=LINK)
def resend(tx):
    return sms_steps.resend_code(tx, send=service.send_code_to,
                                 code_endpoint="franceconnect.code")


@bp.route("/eleves", methods=["GET", "POST"])
@step_page("pupils", plan=LINK)
def pupils(tx):
    """The pupils linked to that number and their birth dates."""
    listed = service.pupils_of(tx)
    form = pupils_form_class(len(listed))(
        pupils=listed, matches=birth_dates.matches,
        count_failure=partial(service.count_birth_date_failure, tx))
    rows = [(n, p, form[f"link_{n}"], form[f"day_{n}"], form[f"month_{n}"],
             form[f"year_{n}"]) for n, p in enumerate(listed)]
    if not form.is_submitted():
        return _page("pupils", tx, form=form, rows=rows)
    if not form.validate_on_submit():
        if form.no_tries_left:
            return LINK.resume(tx)
        return _page("pupils", tx, 400, form=form, rows=rows)
    try:
        account = service.decide(tx, listed, form.answers, form.dates)
    except accounts.AlreadyLinked:
        tx.stop(StopReason.already_linked)
        account = None
    if account is None:
        return LINK.resume(tx)
    return _linked(tx, account)


def _linked(tx, account, notify: bool = False):
    """Linked and signed in. Made or taken over here (a provisional account: its letter
    never used), the account gets no new-device notice: a first connection."""
    id_token = tx.identity["id_token"]
    tx.forget()
    _sign_in(account, id_token, notify=notify)
    flash(_("FranceConnect est désormais relié à votre compte %(identifier)s : la "
            "prochaine fois, « S'identifier avec FranceConnect » suffit.",
            identifier=account.identifier), "success")
    return step_done()


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@step_page("password", plan=LINK)
def password(tx):
    """An account of this representative exists: its password, once, to link it."""
    form = ExistingPasswordForm()
    identifier = service.identifier_of(tx)
    if form.validate_on_submit():
        found = service.confirm_password(tx, form.password.data)
        if isinstance(found, Account):
            # An existing account, its password typed here: a sign-in like any other.
            return _linked(tx, found, notify=True)
        if found is None or tx.step == "stopped":
            return LINK.resume(tx)
        form.password.errors = list(form.password.errors) + [found.throttled() or _(
            "Mot de passe incorrect. Vérifiez-le (majuscules, minuscules), ou utilisez "
            "« Mot de passe oublié ? » depuis la page de connexion.")]
    form.password.data = ""
    return _page("password", tx, 400 if form.errors else 200, form=form,
                 identifier=identifier)


@bp.get("/arret")
@step_page("stopped", plan=LINK)
def stopped(tx):
    """Nothing linked: what happened and what to do."""
    return _page("stopped", tx, 403 if tx.stop_reason == StopReason.birth_dates else 200,
                 reason=tx.stop_reason)


# --- A FranceConnected account ("Mon compte") ---------------------------------------

def _reauthenticated(identity, suite: str | None):
    """A signed-in account confirmed who it is with FranceConnect (instead of a password
    it may not have): the re-authentication window opens, as after a password."""
    account = current_account()
    link = linked.link_of(account)
    if account is None or link is None or link.sub != identity.sub:
        return _refused("reauth_other_identity")
    reauth.mark_reauthenticated()
    session[SESSION_KEY] = {"id_token": identity.id_token}
    record("reauthenticated", actor=account.identifier, method="fc")
    if suite:
        return redirect(url_for(reauth.safe_target(suite)))
    return redirect(url_for("franceconnect.choose_password"))
