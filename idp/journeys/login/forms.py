from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length


class LoginForm(FlaskForm):
    identifier = StringField(
        _l("Identifiant"), validators=[InputRequired(_l("Saisissez votre identifiant.")),
                                       Length(max=64, message=_l("Identifiant trop long."))],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(
        _l("Mot de passe"), validators=[InputRequired(_l("Saisissez votre mot de passe.")),
                                        Length(max=1024)],
        render_kw={"autocomplete": "current-password"})


class PupilLoginForm(LoginForm):
    """The same form on the "Élève" profile: its messages say "tu"."""
    identifier = StringField(
        _l("Identifiant"), validators=[InputRequired(_l("Saisis ton identifiant.")),
                                       Length(max=64, message=_l("Identifiant trop long."))],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(
        _l("Mot de passe"), validators=[InputRequired(_l("Saisis ton mot de passe.")),
                                        Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
