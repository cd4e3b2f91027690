from __future__ import annotations

from typing import Callable

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ..account.credentials import CurrentPassword


def _code_field(label=_l("Code à 6 chiffres")):
    return StringField(
        label, validators=[InputRequired(_l("Saisissez le code affiché par votre application.")),
                           Length(max=40, message=_l("Code trop long."))],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false",
                   "autocapitalize": "none"})


def wrong_code_message(outcome: str) -> str:
    """What to tell when a typed code did not open (CodeCheck wrong or blocked)."""
    if outcome == "blocked":
        return _("Trop de codes incorrects : patientez quelques minutes avant de réessayer. "
                 "Si vous avez perdu votre téléphone et vos codes de secours, contactez "
                 "l'établissement.")
    return _("Code incorrect. Vérifiez l'heure de votre téléphone et saisissez le code "
             "affiché maintenant, ou un de vos codes de secours.")


class CodeCheckingForm(FlaskForm):
    """A form whose `code` must open the account's factor: `check_code(typed)` (passed
    in: service.check_code for the account) returns a CodeCheck, kept in `outcome`."""

    def __init__(self, *args, check_code: Callable[[str], object] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_code, self.outcome = check_code, None

    def code_opens(self) -> bool:
        self.outcome = self.check_code(self.code.data)
        if self.outcome.opens:
            return True
        self.code.errors = list(self.code.errors) + [wrong_code_message(self.outcome)]
        return False

    def validate(self, extra_validators=None) -> bool:
        return super().validate(extra_validators) and self.code_opens()


class VerifyForm(CodeCheckingForm):
    code = _code_field(_l("Code de vérification"))


class EnrolForm(FlaskForm):
    code = _code_field()


class DisableForm(CodeCheckingForm):
    """Password and a code (or a recovery code) both required: the password first
    (`check_password`, passed in), and the code only when it is right."""
    password = PasswordField(
        _l("Mot de passe"), validators=[InputRequired(_l("Saisissez votre mot de passe.")),
                                        Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
    code = _code_field(_l("Code de vérification ou code de secours"))

    def __init__(self, *args, check_password: Callable[[str], CurrentPassword] =
                 lambda typed: CurrentPassword(False), informal: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_password = check_password
        self.informal = informal  # a pupil's page: "tu"

    def validate(self, extra_validators=None) -> bool:
        if not FlaskForm.validate(self, extra_validators):
            return False
        checked = self.check_password(self.password.data)
        if not checked:
            self.password.errors = list(self.password.errors) + [
                checked.throttled(self.informal) or _(
                    "Mot de passe incorrect : la validation en deux étapes reste activée.")]
            return False
        return self.code_opens()


class RenewForm(FlaskForm):
    """Empty: a POST with its CSRF token."""
