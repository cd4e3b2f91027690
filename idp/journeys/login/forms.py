from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length


def _identifier(required_message) -> StringField:
    return StringField(
        _l("Identifiant"), validators=[InputRequired(required_message),
                                       Length(max=64, message=_l("Identifiant trop long."))],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})


def _password(required_message) -> PasswordField:
    return PasswordField(_l("Mot de passe"),
                         validators=[InputRequired(required_message), Length(max=1024)],
                         render_kw={"autocomplete": "current-password"})


class LoginForm(FlaskForm):
    identifier = _identifier(_l("Saisissez votre identifiant."))
    password = _password(_l("Saisissez votre mot de passe."))


class PupilLoginForm(LoginForm):
    """The same form on the "Élève" profile: its messages say "tu"."""
    identifier = _identifier(_l("Saisis ton identifiant."))
    password = _password(_l("Saisis ton mot de passe."))
