from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length, ValidationError

from ..activation.forms import EmailValid
from ..fields import mobile_phone_field, new_password_pair, sms_code_field


def _current_password(label=_l("Mot de passe actuel")):
    return PasswordField(
        label, validators=[InputRequired(_l("Saisissez votre mot de passe actuel.")),
                           Length(max=1024)],
        render_kw={"autocomplete": "current-password"})


class ReauthForm(FlaskForm):
    password = _current_password(_l("Mot de passe"))


class ChangePasswordForm(FlaskForm):
    current = _current_password()
    password, password_confirm = new_password_pair()


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
    phone = mobile_phone_field(_l("Nouveau numéro de téléphone portable"),
                               _l("Saisissez votre nouveau numéro de téléphone portable."))


class PhoneCodeForm(FlaskForm):
    code = sms_code_field()


class PostForm(FlaskForm):
    """Empty: a button that POSTs with its CSRF token (resend, report)."""
