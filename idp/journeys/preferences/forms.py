from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField
from wtforms.validators import Length, Optional, ValidationError

# Deliberately plain: one @, a dot in the domain, no spaces. Whether the address works
# is proven by the confirmation link, not by a pattern.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")


class PreferencesForm(FlaskForm):
    email = EmailField(
        _l("Renseignez ou mettez à jour votre adresse email"),
        validators=[Optional(), Length(max=254, message=_l("Adresse email trop longue."))],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})
    notify_region = BooleanField(_l("de la région"))
    notify_department = BooleanField(_l("du département"))
    notify_academy = BooleanField(_l("de l'académie"))

    def validate_email(self, field):
        field.data = (field.data or "").strip()
        if field.data and not EMAIL.match(field.data):
            raise ValidationError(_l("Saisissez une adresse email valide, par exemple "
                                     "prenom.nom@exemple.fr."))


class PupilPreferencesForm(PreferencesForm):
    """A pupil's page says "tu"."""
    email = EmailField(
        _l("Renseigne ou mets à jour ton adresse email"),
        validators=[Optional(), Length(max=254, message=_l("Adresse email trop longue."))],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})

    def validate_email(self, field):
        field.data = (field.data or "").strip()
        if field.data and not EMAIL.match(field.data):
            raise ValidationError(_l("Saisis une adresse email valide, par exemple "
                                     "prenom.nom@exemple.fr."))


class ConfirmEmailForm(FlaskForm):
    """Empty: the CSRF token is the point (confirming is a POST)."""
