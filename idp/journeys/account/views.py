"""J6 signed in: "Scolarité Services" at /compte (reached through the gate: signed in,
every step done)."""
from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext

from ...extensions import passwords
from ...signin.gate import allow
from ...signin.session import current_account
from ...security.mobile_numbers import display
from ...security.sms_codes import minutes_text
from ..fields import sms_code_error
from ..preferences.email_change import CONFIRMED_LISTENERS
from ..wayf.service import speaks_to_a_pupil
from . import credentials, email_change_report, reauth, service
from .forms import (ChangeEmailForm, ChangePasswordForm, ChangePhoneForm, PhoneCodeForm,
                    PostForm, PupilChangeEmailForm, PupilChangePasswordForm,
                    PupilChangePhoneForm, PupilPhoneCodeForm, PupilReauthForm, ReauthForm)

bp = Blueprint("account", __name__, url_prefix="/compte")


@bp.context_processor
def _address():
    """`tu` in every page of Mon compte: a pupil is addressed "tu", a parent "vous"; on
    the pages opened signed out from a message (signalement), the profile chosen on this
    device, unless the view knows the account."""
    return {"tu": speaks_to_a_pupil()}

allow("account.report_email_change")  # opened from the old mailbox, often signed out
if email_change_report.tell_previous_address not in CONFIRMED_LISTENERS:
    CONFIRMED_LISTENERS.append(email_change_report.tell_previous_address)


@bp.get("")
def index():
    account = current_account()
    return render_template("account/index.html", info=service.summary(account),
                           resend_form=PostForm())


@bp.route("/confirmer-mot-de-passe", methods=["GET", "POST"])
def reauthenticate():
    """"Confirmez votre mot de passe" before a sensitive change."""
    account = current_account()
    target = reauth.safe_target(request.args.get("suite"))
    tu = service.addressed_as_tu(account)
    form = PupilReauthForm() if tu else ReauthForm()
    if form.validate_on_submit():
        checked = credentials.check_current_password(account, form.password.data)
        if checked:
            reauth.mark_reauthenticated()
            return redirect(url_for(target))
        form.password.errors = list(form.password.errors) + [checked.throttled(tu) or (_(
            "Mot de passe incorrect. Vérifie-le (majuscules, minuscules), ou utilise "
            "« Mot de passe oublié ? » après la déconnexion.") if tu else _(
            "Mot de passe incorrect. Vérifiez-le (majuscules, minuscules), ou utilisez "
            "« Mot de passe oublié ? » après la déconnexion."))]
    form.password.data = ""
    return render_template("account/reauth.html", form=form, identifier=account.identifier), \
        400 if form.errors else 200


@bp.route("/mot-de-passe", methods=["GET", "POST"])
def change_password():
    """Current password, new one twice; other sessions and refresh tokens end."""
    account = current_account()
    form = (PupilChangePasswordForm if service.addressed_as_tu(account) else ChangePasswordForm)(
        check_current=partial(credentials.check_current_password, account),
        policy=partial(credentials.password_problems, account),
        is_current=partial(passwords().verify, account.password_hash))
    if form.validate_on_submit():
        credentials.replace_password(account, form.password.data, reason="change")
        reauth.mark_reauthenticated()
        flash(_("Ton mot de passe a été changé. Tes autres sessions ont été fermées.")
              if service.addressed_as_tu(account) else
              _("Votre mot de passe a été changé. Vos autres sessions ont été "
                "fermées."), "success")
        return redirect(url_for("account.index"))
    form.current.data = form.password.data = form.password_confirm.data = ""
    return render_template("account/password.html", form=form,
                           identifier=account.identifier), 400 if form.errors else 200


@bp.route("/email", methods=["GET", "POST"])
@reauth.require_recent_password("account.change_email")
def change_email():
    """A new address, confirmed by the link sent to it; only then does it change."""
    account = current_account()
    form = PupilChangeEmailForm() if service.addressed_as_tu(account) else ChangeEmailForm()
    if form.validate_on_submit():
        outcome = service.request_email_change(account, form.email.data)
        if outcome is service.EmailChange.sent:
            return render_template("account/email_sent.html", email=form.email.data)
        if outcome is service.EmailChange.same:
            form.email.errors = list(form.email.errors) + [_(
                "C'est déjà l'adresse confirmée de votre compte : rien à changer. Pour la "
                "remplacer, saisissez une autre adresse.")]
        else:
            form.email.errors = list(form.email.errors) + [_(
                "Plusieurs messages de confirmation ont déjà été envoyés. Ouvrez le dernier "
                "reçu, ou réessayez dans une heure.")]
    return render_template("account/email.html", form=form, account=account), \
        400 if form.errors else 200


@bp.post("/email/renvoyer")
def resend_email_change():
    """"Renvoyer" beside the address waiting for its confirmation: the same request again
    (the newest link replaces the older one; the hourly cap holds)."""
    account = current_account()
    waiting = service.email_change.pending(account)
    if waiting is None or not PostForm().validate_on_submit():
        return redirect(url_for("account.index"))
    outcome = service.request_email_change(account, waiting["email"])
    if outcome is service.EmailChange.sent:
        flash(_("Un nouveau lien de confirmation a été envoyé à %(email)s.",
                email=waiting["email"]), "success")
    else:
        flash(_("Plusieurs messages de confirmation ont déjà été envoyés. Ouvrez le dernier "
                "reçu, ou réessayez dans une heure."), "info")
    return redirect(url_for("account.index"))


@bp.route("/telephone", methods=["GET", "POST"])
@reauth.require_recent_password("account.change_phone")
def change_phone():
    """A new mobile, confirmed by a code sent to it."""
    account = current_account()
    form = PupilChangePhoneForm() if service.addressed_as_tu(account) else ChangePhoneForm()
    if form.validate_on_submit():
        if account.phone == form.phone.data:
            form.phone.errors = list(form.phone.errors) + [
                _("C'est déjà le numéro de ton compte : rien à changer.")
                if service.addressed_as_tu(account) else
                _("C'est déjà le numéro de votre compte : rien à changer.")]
        else:
            outcome = service.start_phone_change(account, form.phone.data)
            if outcome.sent:
                return redirect(url_for("account.phone_code"))
            form.phone.errors = list(form.phone.errors) + [ngettext(
                "Un SMS a déjà été envoyé à ce numéro il y a peu. Réessaie dans "
                "%(num)d seconde.", "Un SMS a déjà été envoyé à ce numéro il y a peu. "
                "Réessaie dans %(num)d secondes.", outcome.retry_after)
                if service.addressed_as_tu(account) else ngettext(
                "Un SMS a déjà été envoyé à ce numéro il y a peu. Réessayez dans "
                "%(num)d seconde.", "Un SMS a déjà été envoyé à ce numéro il y a peu. "
                "Réessayez dans %(num)d secondes.", outcome.retry_after)]
    return render_template("account/phone.html", form=form,
                           current=display(account.phone) if account.phone else None), \
        400 if form.errors else 200


@bp.route("/telephone/code", methods=["GET", "POST"])
@reauth.require_recent_password("account.change_phone")
def phone_code():
    account = current_account()
    state = service.pending_phone(account)
    if state is None:
        return redirect(url_for("account.change_phone"))
    tu = service.addressed_as_tu(account)
    form = PupilPhoneCodeForm() if tu else PhoneCodeForm()
    if form.validate_on_submit():
        reason, left = service.confirm_phone_change(account, form.code.data)
        if reason is None:
            flash(_("Ton numéro de téléphone portable est changé.")
                  if service.addressed_as_tu(account) else
                  _("Votre numéro de téléphone portable est changé."), "success")
            return redirect(url_for("account.index"))
        form.code.errors = list(form.code.errors) + [sms_code_error(reason, left, tu)]
    form.code.data = ""
    return render_template("account/phone_code.html", form=form, resend_form=PostForm(),
                           phone=display(state["phone"]), minutes=minutes_text()), \
        400 if form.errors else 200


@bp.post("/telephone/renvoyer")
@reauth.require_recent_password("account.change_phone")
def phone_resend():
    account = current_account()
    if service.pending_phone(account) is None or not PostForm().validate_on_submit():
        return redirect(url_for("account.change_phone"))
    outcome = service.resend_phone_code(account)
    if outcome.sent:
        flash(_("Un nouveau code a été envoyé."), "success")
    else:
        flash(ngettext("Un SMS vient d'être envoyé : tu pourras en demander un autre dans "
                       "%(num)d seconde.", "Un SMS vient d'être envoyé : tu pourras en "
                       "demander un autre dans %(num)d secondes.", outcome.retry_after)
              if service.addressed_as_tu(account) else
              ngettext("Un SMS vient d'être envoyé : vous pourrez en demander un autre dans "
                       "%(num)d seconde.", "Un SMS vient d'être envoyé : vous pourrez en "
                       "demander un autre dans %(num)d secondes.", outcome.retry_after), "info")
    return redirect(url_for("account.phone_code"))


@bp.route("/signalement/<token>", methods=["GET", "POST"])
def report_email_change(token: str):
    """"Ce n'était pas moi", from the notice sent to the previous address: a button (a
    POST, so mail scanners fetching the link do not use it)."""
    form = PostForm()
    if not form.validate_on_submit():
        return render_template("account/report.html", form=form)
    try:
        account = email_change_report.report_email_change(token)
    except email_change_report.ReportError as exc:
        return render_template("account/report_error.html", reason=exc.reason), \
            410 if exc.reason == "expired" else 400
    return render_template("account/reported.html", tu=service.addressed_as_tu(account))
