from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length, ValidationError

from ..activation.forms import EmailValid
from ..fields import NewPasswordTwice, mobile_phone_field, new_password_pair, sms_code_field
from .credentials import CurrentPassword


def _current_password(label=_l("Mot de passe actuel"), informal: bool = False):
    return PasswordField(
        label, validators=[InputRequired(_l("Saisis ton mot de passe actuel.") if informal
                                         else _l("Saisissez votre mot de passe actuel.")),
                           Length(max=1024)],
        render_kw={"autocomplete": "current-password"})


class ReauthForm(FlaskForm):
    password = _current_password(_l("Mot de passe"))


class PupilReauthForm(FlaskForm):
    """A pupil's page says "tu" (messages included)."""
    password = _current_password(_l("Mot de passe"), informal=True)


class ChangePasswordForm(NewPasswordTwice, FlaskForm):
    """Current password, new one twice. Once every field passes: the current password
    (`check_current`, throttled like sign-in), then the policy and the confirmation, then
    "not the current one" (`is_current`, NewPasswordTwice); collaborators passed in with
    `policy`."""
    current = _current_password()
    password, password_confirm = new_password_pair()
    mismatch_field = "password"
    rules_wait_for_all_fields = True

    def __init__(self, *args, check_current: Callable[[str], CurrentPassword] =
                 lambda typed: CurrentPassword(True), **kwargs):
        super().__init__(*args, **kwargs)
        self.check_current = check_current

    def check_new_password(self) -> bool:
        checked = self.check_current(self.current.data)
        if not checked:
            self.current.errors = list(self.current.errors) + [
                checked.throttled(self.informal) or (_(
                    "Mot de passe actuel incorrect : ton mot de passe n'a pas été changé. "
                    "Vérifie-le, ou déconnecte-toi et utilise « Mot de passe oublié ? ».")
                    if self.informal else _(
                    "Mot de passe actuel incorrect : votre mot de passe n'a pas été changé. "
                    "Vérifiez-le, ou déconnectez-vous et utilisez « Mot de passe oublié ? »."))]
            return False
        return super().check_new_password()


class PupilChangePasswordForm(ChangePasswordForm):
    """A pupil's page says "tu" (labels and messages included)."""
    current = _current_password(informal=True)
    password, password_confirm = new_password_pair(informal=True)
    informal = True


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


class PupilChangeEmailForm(ChangeEmailForm):
    """A pupil's page says "tu"."""
    email = EmailField(
        _l("Nouvelle adresse email"),
        validators=[InputRequired(_l("Saisis la nouvelle adresse email.")),
                    Length(max=254, message=_l("Adresse email trop longue.")),
                    EmailValid(informal=True)],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})
    email_confirm = EmailField(
        _l("Confirme la nouvelle adresse email"),
        validators=[InputRequired(_l("Saisis à nouveau la nouvelle adresse email.")),
                    Length(max=254), EmailValid(informal=True)],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})


class ChangePhoneForm(FlaskForm):
    phone = mobile_phone_field(_l("Nouveau numéro de téléphone portable"),
                               _l("Saisissez votre nouveau numéro de téléphone portable."))


class PupilChangePhoneForm(FlaskForm):
    """A pupil's page says "tu"."""
    phone = mobile_phone_field(_l("Nouveau numéro de téléphone portable"),
                               _l("Saisis ton nouveau numéro de téléphone portable."))


class PhoneCodeForm(FlaskForm):
    code = sms_code_field()


class PupilPhoneCodeForm(FlaskForm):
    """A pupil's page says "tu"."""
    code = sms_code_field(informal=True)


class PostForm(FlaskForm):
    """Empty: a button that POSTs with its CSRF token (resend, report)."""
