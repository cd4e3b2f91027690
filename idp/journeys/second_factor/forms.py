from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length


def _code_field(label=_l("Code à 6 chiffres")):
    return StringField(
        label, validators=[InputRequired(_l("Saisissez le code affiché par votre application.")),
                           Length(max=40, message=_l("Code trop long."))],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false",
                   "autocapitalize": "none"})


class VerifyForm(FlaskForm):
    code = _code_field(_l("Code de vérification"))


class EnrolForm(FlaskForm):
    code = _code_field()


class DisableForm(FlaskForm):
    password = PasswordField(
        _l("Mot de passe"), validators=[InputRequired(_l("Saisissez votre mot de passe.")),
                                        Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
    code = _code_field(_l("Code de vérification ou code de secours"))


class RenewForm(FlaskForm):
    """Empty: a POST with its CSRF token."""
