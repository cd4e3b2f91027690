"""Console sign-in: identifier + password, then a TOTP code (or a recovery code); at the
first sign-in, TOTP enrolment with a QR code. No console page is reached before the code.
"""
from __future__ import annotations

import time

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ...audit import record
from ...signin.forms import LogoutForm
from ...security import totp
from .. import staff as staff_service
from . import guard
from .blueprint import bp
from .forms import EmptyForm


class SignInForm(FlaskForm):
    identifier = StringField(
        _l("Identifiant"), validators=[InputRequired(_l("Saisissez votre identifiant.")),
                                       Length(max=64, message=_l("Identifiant trop long."))],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(
        _l("Mot de passe"), validators=[InputRequired(_l("Saisissez votre mot de passe.")),
                                        Length(max=1024)],
        render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code à 6 chiffres"), validators=[
            InputRequired(_l("Saisissez le code affiché par votre application.")),
            Length(max=32, message=_l("Code trop long."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text",
                   "autocapitalize": "none", "spellcheck": "false"})


def _after_password(staff) -> str:
    session[guard.PENDING] = {"id": staff.id, "epoch": staff.session_epoch, "at": time.time()}
    session.pop(guard.ENROL, None)
    if staff.totp_secret_sealed is None:
        return url_for("admin.enrol")
    return url_for("admin.second_factor")


def _finish(staff):
    staff_service.mark_signed_in(staff)
    guard.open_console_session(staff)
    target = session.pop(guard.NEXT, None)
    return redirect(target if target and target.startswith("/admin") else url_for("admin.home"))


@bp.route("/connexion", methods=["GET", "POST"])
def sign_in():
    if guard.current_staff() is not None:
        return redirect(url_for("admin.home"))
    if session.get("account_id"):
        # A family is signed in in this browser: staff and family sessions never mix.
        return render_template("admin/family_session.html", logout_form=LogoutForm()), 409
    form, status = SignInForm(), 200
    if form.validate_on_submit():
        staff = staff_service.check_password(form.identifier.data, form.password.data)
        if staff is not None:
            return redirect(_after_password(staff))
        form.password.errors.append(_("Identifiant ou mot de passe incorrect."))
        status = 400
    elif form.errors:
        status = 400
    form.password.data = ""
    return render_template("admin/sign_in.html", form=form), status


@bp.route("/connexion/code", methods=["GET", "POST"])
def second_factor():
    staff = guard.pending_staff()
    if staff is None or staff.totp_secret_sealed is None:
        return redirect(url_for("admin.sign_in") if staff is None else url_for("admin.enrol"))
    form, status = CodeForm(), 200
    if form.validate_on_submit():
        if staff_service.check_second_factor(staff, form.code.data):
            return _finish(staff)
        form.code.errors.append(_("Code incorrect ou déjà utilisé. Attendez le code suivant."))
        status = 400
    elif form.errors:
        status = 400
    form.code.data = ""
    return render_template("admin/second_factor.html", form=form), status


@bp.route("/connexion/enrolement", methods=["GET", "POST"])
def enrol():
    """First sign-in: scan the QR code, type a code to prove it works, keep the recovery
    codes (shown once, on the answer to that POST)."""
    staff = guard.pending_staff()
    if staff is None or staff.totp_secret_sealed is not None:
        return redirect(url_for("admin.sign_in") if staff is None else url_for("admin.second_factor"))
    secret = totp.unseal(session.get(guard.ENROL) or "")
    if secret is None:
        secret = totp.new_secret()
        session[guard.ENROL] = totp.seal(secret)  # server-side session, sealed anyway
    enrolment = staff_service.start_enrolment(staff, secret)
    form, status = CodeForm(), 200
    if form.validate_on_submit():
        if totp.verify(secret, form.code.data, replay_key=f"staff-{staff.id}"):
            staff_service.finish_enrolment(staff, secret, enrolment.recovery_codes)
            response = _finish(staff)
            return render_template("admin/recovery_codes.html",
                                   codes=enrolment.recovery_codes, next=response.location)
        form.code.errors.append(_("Ce code ne correspond pas. Vérifiez l'heure du téléphone "
                                  "et saisissez le code affiché maintenant."))
        status = 400
    elif form.errors:
        status = 400
    form.code.data = ""
    return render_template("admin/enrol.html", form=form, secret=secret,
                           qr=Markup(totp.qr_svg(enrolment.uri))), status


@bp.post("/deconnexion")
def sign_out():
    if EmptyForm().validate_on_submit():
        staff = guard.current_staff()
        if staff is not None:
            record("staff_logout", actor=staff_service.actor_name(staff))
        guard.drop_console_keys()
        session.pop(guard.NEXT, None)
        flash(_("Vous êtes déconnecté de la console."), "info")
    return redirect(url_for("admin.sign_in"))
