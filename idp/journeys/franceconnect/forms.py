"""J4b forms; the code, pupils and password forms are sign-up's (journeys/signup/forms.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField
from wtforms.validators import InputRequired, Length

from ..fields import region_and_mobile_fields


class StartForm(FlaskForm):
    """"S'identifier avec FranceConnect" (a POST: it starts a flow)."""
    purpose = HiddenField(default="signin")
    suite = HiddenField()  # reauth: the page to go back to (account.reauthenticate's)


class PhoneForm(FlaskForm):
    """The mobile number the school holds."""
    region, phone = region_and_mobile_fields()

    e164: str | None = None


class ExistingPasswordForm(FlaskForm):
    """The password of the account that already exists, to link it."""
    password = PasswordField(
        _l("Mot de passe"), validators=[InputRequired(_l("Saisissez votre mot de passe.")),
                                        Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
