from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired, StopValidation

PROFILE_CHOICES = [("pupil", _l("Élève")), ("parent", _l("Représentant légal"))]


class WayfForm(FlaskForm):
    """J1: who are you? The academies are passed in (from config/academies.toml)."""

    profile = RadioField(_l("Je suis"), choices=PROFILE_CHOICES,
                         validators=[InputRequired(_l("Choisissez votre profil."))])
    academy = SelectField(_l("Mon académie"),
                          validators=[InputRequired(_l("Choisissez votre académie."))])

    def __init__(self, academies: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.academy.choices = [("", _l("— Choisir —"))] + sorted(
            academies.items(), key=lambda item: item[1])

    def validate_academy(self, field):
        if field.data == "":
            raise StopValidation(_l("Choisissez votre académie."))
