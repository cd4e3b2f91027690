from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, StringField
from wtforms.validators import InputRequired, Length

from ..activation.forms import EmailValid
from ..fields import NewPasswordTwice, mobile_phone_field, new_password_pair, sms_code_field


class IdentifierByEmailForm(FlaskForm):
    email = EmailField(
        _l("Adresse email enregistrée sur votre compte"),
        validators=[InputRequired(_l("Saisissez l'adresse email de votre compte.")),
                    Length(max=254, message=_l("Adresse email trop longue.")), EmailValid()],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})


class PupilIdentifierByEmailForm(FlaskForm):
    """A pupil's page says "tu" (the device chose "Élève": nothing is known of the
    account yet), as every Pupil... form below."""
    email = EmailField(
        _l("Adresse email enregistrée sur ton compte"),
        validators=[InputRequired(_l("Saisis l'adresse email de ton compte.")),
                    Length(max=254, message=_l("Adresse email trop longue.")),
                    EmailValid(informal=True)],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})


class IdentifierBySmsForm(FlaskForm):
    phone = mobile_phone_field(_l("Numéro de téléphone portable enregistré"),
                               _l("Saisissez votre numéro de téléphone portable."))


class PupilIdentifierBySmsForm(FlaskForm):
    phone = mobile_phone_field(_l("Numéro de téléphone portable enregistré"),
                               _l("Saisis ton numéro de téléphone portable."))


def _identifier_field(required_message) -> StringField:
    return StringField(
        _l("Identifiant"), validators=[InputRequired(required_message),
                                       Length(max=64, message=_l("Identifiant trop long."))],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})


class ResetIdentifierForm(FlaskForm):
    identifier = _identifier_field(_l("Saisissez votre identifiant."))


class PupilResetIdentifierForm(FlaskForm):
    identifier = _identifier_field(_l("Saisis ton identifiant."))


class ResetChannelForm(FlaskForm):
    channel = RadioField(
        _l("Comment voulez-vous recevoir le lien ou le code qui permet de choisir un "
           "nouveau mot de passe ?"),
        choices=[("email", _l("Par email : un lien envoyé à l'adresse email confirmée de "
                              "votre compte")),
                 ("sms", _l("Par SMS : un code envoyé au numéro de téléphone portable "
                            "enregistré sur votre compte"))],
        validators=[InputRequired(_l("Choisissez comment recevoir le lien ou le code."))])


class PupilResetChannelForm(FlaskForm):
    channel = RadioField(
        _l("Comment veux-tu recevoir le lien ou le code qui permet de choisir un nouveau "
           "mot de passe ?"),
        choices=[("email", _l("Par email : un lien envoyé à l'adresse email confirmée de "
                              "ton compte")),
                 ("sms", _l("Par SMS : un code envoyé au numéro de téléphone portable "
                            "enregistré sur ton compte"))],
        validators=[InputRequired(_l("Choisis comment recevoir le lien ou le code."))])


class ResetCodeForm(FlaskForm):
    code = sms_code_field()


class PupilResetCodeForm(FlaskForm):
    code = sms_code_field(informal=True)


class ResendForm(FlaskForm):
    """Empty: "Renvoyer le SMS" is a POST with its CSRF token."""


class NewPasswordForm(NewPasswordTwice, FlaskForm):
    """The new password twice; the policy for the account is passed in (`policy=`) and
    checked once every field passes."""
    password, password_confirm = new_password_pair()
    mismatch_field = "password"
    rules_wait_for_all_fields = True


class PupilNewPasswordForm(NewPasswordForm):
    """A pupil's page says "tu" (the account is known: a link's token or a verified
    code)."""
    password, password_confirm = new_password_pair(informal=True)
    informal = True
