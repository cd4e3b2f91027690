"""J6 signed out: "Identifiant oublié ?" and "Mot de passe oublié ?" (public pages).

Every answer is the same whatever was typed: what it would reveal goes to the channel the
account already has (see service.py). A pupil reads "tu", a parent "vous": the profile
chosen on this device (speaks_to_a_pupil), the account's once a link or a code names it;
the identifier typed decides nothing (it would tell whose account it is)."""
from __future__ import annotations

from functools import partial

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ...errors import error_page
from ...models import AccountProfile
from ...signin.gate import allow_blueprint
from ...security.sms_codes import minutes_text
from ..account.credentials import password_problems
from ..fields import sms_code_error
from ..signup.messages import delay_text
from ..wayf.service import speaks_to_a_pupil
from . import service, sms
from .forms import (IdentifierByEmailForm, IdentifierBySmsForm, NewPasswordForm,
                    PupilIdentifierByEmailForm, PupilIdentifierBySmsForm, PupilNewPasswordForm,
                    PupilResetChannelForm, PupilResetCodeForm, PupilResetIdentifierForm,
                    ResendForm, ResetChannelForm, ResetCodeForm, ResetIdentifierForm)

bp = Blueprint("recovery", __name__, url_prefix="/recuperation")
allow_blueprint("recovery")

RESET_KEY = "password_reset"  # the identifier typed on the first page


def _slow_down(wait: int):
    """The address is slowed (recovery's per-IP pace): come back in `wait` seconds."""
    return error_page(429, _("Trop de demandes"),
                      _("Trop de demandes ont été faites depuis cette connexion. "
                        "Réessaie dans %(wait)s, ou adresse-toi au secrétariat de "
                        "l'établissement.", wait=delay_text(wait)) if speaks_to_a_pupil()
                      else _("Trop de demandes ont été faites depuis cette connexion. "
                             "Réessayez dans %(wait)s, ou adressez-vous au secrétariat de "
                             "l'établissement.", wait=delay_text(wait)))


def _pupil(account) -> bool:
    """The account is known (a link's token, a verified code): its profile decides."""
    return account.profile == AccountProfile.pupil


# --- Identifiant oublié -----------------------------------------------------------------

def _by_email_form():
    return (PupilIdentifierByEmailForm if speaks_to_a_pupil() else IdentifierByEmailForm)()


def _by_sms_form():
    return (PupilIdentifierBySmsForm if speaks_to_a_pupil() else IdentifierBySmsForm)()


def _identifier_page(email_form=None, sms_form=None, status=200):
    return render_template("recovery/identifier.html",
                           email_form=email_form or _by_email_form(),
                           sms_form=sms_form or _by_sms_form()), status


@bp.get("/identifiant")
def identifier():
    return _identifier_page()


@bp.post("/identifiant/email")
def identifier_by_email():
    form = _by_email_form()
    if not form.validate_on_submit():
        return _identifier_page(email_form=form, status=400)
    if wait := service.too_many_requests():
        return _slow_down(wait)
    service.send_identifiers_by_email(form.email.data)
    return render_template("recovery/identifier_sent.html", channel="email",
                           email=form.email.data)


@bp.post("/identifiant/sms")
def identifier_by_sms():
    form = _by_sms_form()
    if not form.validate_on_submit():
        return _identifier_page(sms_form=form, status=400)
    if wait := service.too_many_requests():
        return _slow_down(wait)
    wait = service.send_identifiers_by_sms(form.phone.data)
    return render_template("recovery/identifier_sent.html", channel="sms", wait=wait)


# --- Mot de passe oublié ---------------------------------------------------------------

@bp.route("/mot-de-passe", methods=["GET", "POST"])
def password_start():
    """First the identifier (nothing is looked up yet)."""
    form = (PupilResetIdentifierForm if speaks_to_a_pupil() else ResetIdentifierForm)()
    if form.validate_on_submit():
        if wait := service.too_many_requests():
            return _slow_down(wait)
        session[RESET_KEY] = form.identifier.data.strip()
        session.pop(sms.SESSION_KEY, None)
        return redirect(url_for("recovery.password_channel"))
    if not form.is_submitted() and session.get(RESET_KEY):
        form.identifier.data = session[RESET_KEY]
    return render_template("recovery/password_start.html", form=form), \
        400 if form.errors else 200


@bp.route("/mot-de-passe/moyen", methods=["GET", "POST"])
def password_channel():
    """Then the channel; the same two choices are offered for every identifier."""
    identifier = session.get(RESET_KEY)
    if not identifier:
        return redirect(url_for("recovery.password_start"))
    form = (PupilResetChannelForm if speaks_to_a_pupil() else ResetChannelForm)()
    if form.validate_on_submit():
        if form.channel.data == "email":
            return _reset_link_sent(identifier)
        outcome = sms.start(identifier)
        return redirect(url_for("recovery.password_code",
                                **({} if outcome.sent else {"attendre": outcome.retry_after})))
    return render_template("recovery/password_channel.html", form=form,
                           identifier=identifier), 400 if form.errors else 200


def _reset_link_sent(identifier: str):
    """Send the reset link if the identifier has a confirmed email (the page is the same
    either way)."""
    service.request_reset_by_email(identifier)
    minutes = int(service.reset_link_lifetime().total_seconds() // 60)
    return render_template("recovery/link_sent.html", identifier=identifier, minutes=minutes)


def _code_form():
    return (PupilResetCodeForm if speaks_to_a_pupil() else ResetCodeForm)()


def _code_page(form=None, status=200, wait=None):
    return render_template("recovery/password_code.html", form=form or _code_form(),
                           resend_form=ResendForm(), wait=wait, minutes=minutes_text(),
                           identifier=sms.current()["identifier"]), status


@bp.route("/mot-de-passe/code", methods=["GET", "POST"])
def password_code():
    if sms.current() is None:
        return redirect(url_for("recovery.password_start"))
    form = _code_form()
    if form.validate_on_submit():
        reason, left = sms.check(form.code.data)
        if reason is None:
            return redirect(url_for("recovery.password_new"))
        form.code.errors = list(form.code.errors) + [
            sms_code_error(reason, left, speaks_to_a_pupil())]
    form.code.data = ""
    wait = request.args.get("attendre", type=int)
    return _code_page(form, 400 if form.errors else 200, wait=wait)


@bp.post("/mot-de-passe/code/renvoyer")
def password_resend():
    if sms.current() is None or not ResendForm().validate_on_submit():
        return redirect(url_for("recovery.password_start"))
    outcome = sms.resend()
    if outcome.sent:
        return redirect(url_for("recovery.password_code", renvoye=1))
    return redirect(url_for("recovery.password_code", attendre=outcome.retry_after))


@bp.post("/mot-de-passe/code/par-email")
def password_by_email():
    """"Vous n'avez pas reçu de code ?" -> "Recevoir plutôt un lien par email": the link
    goes at once to the account's confirmed address, if it has one (the same page for
    every identifier), instead of back to the choice of channel."""
    state = sms.current()
    if state is None or not ResendForm().validate_on_submit():
        return redirect(url_for("recovery.password_start"))
    if wait := service.too_many_requests():
        return _slow_down(wait)
    return _reset_link_sent(state["identifier"])


def _new_password_form(account) -> NewPasswordForm:
    """The account's rules. Not "different from the current password", as "Mon compte"
    asks: here that answer would let whoever holds the link or the code test guesses of
    the current password, unthrottled and unnoticed (it may be used elsewhere too)."""
    form_class = PupilNewPasswordForm if _pupil(account) else NewPasswordForm
    return form_class(policy=partial(password_problems, account))


def _new_password_page(account, form, status=200):
    form.password.data = form.password_confirm.data = ""
    return render_template("recovery/password_new.html", form=form,
                           identifier=account.identifier, tu=_pupil(account)), status


@bp.route("/mot-de-passe/nouveau", methods=["GET", "POST"])
def password_new():
    """After the SMS code: choose the new password."""
    account = sms.verified_account()
    if account is None:
        if sms.current() is not None:
            return redirect(url_for("recovery.password_code"))
        return redirect(url_for("recovery.password_start"))
    form = _new_password_form(account)
    if form.validate_on_submit():
        sms.finish(form.password.data)
        session.pop(RESET_KEY, None)
        return render_template("recovery/password_changed.html", tu=_pupil(account))
    return _new_password_page(account, form, 400 if form.errors else 200)


@bp.route("/mot-de-passe/lien/<token>", methods=["GET", "POST"])
def password_link(token: str):
    """The emailed link: the page to choose the new password. Opening it uses nothing;
    the link is spent when the new password is saved."""
    try:
        account = service.account_for_link(token)
    except service.ResetLinkError as exc:
        return _link_error(exc.reason)
    form = _new_password_form(account)
    if form.validate_on_submit():
        try:
            service.reset_with_link(token, form.password.data)
        except service.ResetLinkError as exc:
            return _link_error(exc.reason)
        session.pop(RESET_KEY, None)
        return render_template("recovery/password_changed.html", tu=_pupil(account))
    return _new_password_page(account, form, 400 if form.errors else 200)


def _link_error(reason: str):
    return render_template("recovery/link_error.html", reason=reason), \
        410 if reason == "expired" else 400
