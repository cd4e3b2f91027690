from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField, TelField
from wtforms.validators import InputRequired, Length, ValidationError

from ..activation.forms import EmailValid


class IdentifierByEmailForm(FlaskForm):
    email = EmailField(
        _l("Adresse email enregistrée sur votre compte"),
        validators=[InputRequired(_l("Saisissez l'adresse email de votre compte.")),
                    Length(max=254, message=_l("Adresse email trop longue.")), EmailValid()],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})


class IdentifierBySmsForm(FlaskForm):
    phone = TelField(
        _l("Numéro de téléphone portable enregistré"),
        validators=[InputRequired(_l("Saisissez votre numéro de téléphone portable.")),
                    Length(max=30, message=_l("Numéro trop long."))],
        render_kw={"autocomplete": "tel", "inputmode": "tel"})

    def validate_phone(self, field):
        from ...security.mobile_numbers import MobileNumberError, parse_mobile

        try:
            field.data = parse_mobile(field.data)
        except MobileNumberError as exc:
            raise ValidationError(exc.message) from None


class ResetIdentifierForm(FlaskForm):
    identifier = StringField(
        _l("Identifiant"), validators=[InputRequired(_l("Saisissez votre identifiant.")),
                                       Length(max=64, message=_l("Identifiant trop long."))],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})


class ResetChannelForm(FlaskForm):
    channel = RadioField(
        _l("Comment souhaitez-vous recevoir de quoi choisir un nouveau mot de passe ?"),
        choices=[("email", _l("Par email : un lien envoyé à l'adresse email confirmée de "
                              "votre compte")),
                 ("sms", _l("Par SMS : un code envoyé au numéro de téléphone portable "
                            "enregistré sur votre compte"))],
        validators=[InputRequired(_l("Choisissez comment recevoir le lien ou le code."))])


class ResetCodeForm(FlaskForm):
    code = StringField(
        _l("Code reçu par SMS"),
        validators=[InputRequired(_l("Saisissez le code à 6 chiffres reçu par SMS.")),
                    Length(max=20, message=_l("Le code compte 6 chiffres."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ResendForm(FlaskForm):
    """Empty: "Renvoyer le SMS" is a POST with its CSRF token."""


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[InputRequired(_l("Choisissez un nouveau mot de passe.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"})
    password_confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[InputRequired(_l("Saisissez à nouveau le nouveau mot de passe.")),
                    Length(max=1024)],
        render_kw={"autocomplete": "new-password"})
