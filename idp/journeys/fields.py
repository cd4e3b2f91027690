"""Form fields that several journeys ask for, declared once so their labels, limits,
browser hints and French messages stay the same everywhere (activation, recovery, account).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, TelField
from wtforms.validators import InputRequired, Length, ValidationError


def new_password_pair() -> tuple[PasswordField, PasswordField]:
    """"Nouveau mot de passe" typed twice (the policy is checked by the journey's service,
    which knows the identifier and names the password must not contain)."""
    password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[InputRequired(_l("Choisissez un nouveau mot de passe.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[InputRequired(_l("Saisissez à nouveau le nouveau mot de passe.")),
                    Length(max=1024)],
        render_kw={"autocomplete": "new-password"})
    return password, confirm


class MobileNumber:
    """A French or overseas mobile number, replaced by its E.164 form when valid."""

    def __call__(self, form, field):
        from ..security.mobile_numbers import MobileNumberError, parse_mobile

        try:
            field.data = parse_mobile(field.data)
        except MobileNumberError as exc:
            raise ValidationError(exc.message) from None


def mobile_phone_field(label, required_message) -> TelField:
    return TelField(label, validators=[InputRequired(required_message),
                                       Length(max=30, message=_l("Numéro trop long.")),
                                       MobileNumber()],
                    render_kw={"autocomplete": "tel", "inputmode": "tel"})


def sms_code_field() -> StringField:
    return StringField(
        _l("Code reçu par SMS"),
        validators=[InputRequired(_l("Saisissez le code à 6 chiffres reçu par SMS.")),
                    Length(max=20, message=_l("Le code compte 6 chiffres."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
