from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, TelField
from wtforms.validators import InputRequired, Length, ValidationError

from ..activation.forms import EmailValid


def _current_password(label=_l("Mot de passe actuel")):
    return PasswordField(
        label, validators=[InputRequired(_l("Saisissez votre mot de passe actuel.")),
                           Length(max=1024)],
        render_kw={"autocomplete": "current-password"})


class ReauthForm(FlaskForm):
    password = _current_password(_l("Mot de passe"))


class ChangePasswordForm(FlaskForm):
    current = _current_password()
    password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[InputRequired(_l("Choisissez un nouveau mot de passe.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"})
    password_confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[InputRequired(_l("Saisissez à nouveau le nouveau mot de passe.")),
                    Length(max=1024)],
        render_kw={"autocomplete": "new-password"})


class ChangeEmailForm(FlaskForm):
    email = EmailField(
        _l("Nouvelle adresse email"),
        validators=[InputRequired(_l("Saisissez la nouvelle adresse email.")),
                    Length(max=254, message=_l("Adresse email trop longue.")), EmailValid()],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})
    email_confirm = EmailField(
        _l("Confirmez la nouvelle adresse email"),
        validators=[InputRequired(_l("Saisissez à nouveau la nouvelle adresse email.")),
                    Length(max=254), EmailValid()],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})

    def validate_email_confirm(self, field):
        if self.email.data and not self.email.errors \
                and field.data.lower() != self.email.data.lower():
            raise ValidationError(_l("Les deux adresses ne sont pas identiques."))


class ChangePhoneForm(FlaskForm):
    phone = TelField(
        _l("Nouveau numéro de téléphone portable"),
        validators=[InputRequired(_l("Saisissez votre nouveau numéro de téléphone portable.")),
                    Length(max=30, message=_l("Numéro trop long."))],
        render_kw={"autocomplete": "tel", "inputmode": "tel"})

    def validate_phone(self, field):
        from ...security.mobile_numbers import MobileNumberError, parse_mobile

        try:
            field.data = parse_mobile(field.data)
        except MobileNumberError as exc:
            raise ValidationError(exc.message) from None


class PhoneCodeForm(FlaskForm):
    code = StringField(
        _l("Code reçu par SMS"),
        validators=[InputRequired(_l("Saisissez le code à 6 chiffres reçu par SMS.")),
                    Length(max=20, message=_l("Le code compte 6 chiffres."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class PostForm(FlaskForm):
    """Empty: a button that POSTs with its CSRF token (resend, report)."""
