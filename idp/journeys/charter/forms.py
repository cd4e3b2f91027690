from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired


class CharterForm(FlaskForm):
    """J5: the charter shown above the form is accepted, in the version shown."""

    charter = HiddenField()
    accept = BooleanField(
        _l("j'ai lu et j'accepte les conditions ci-dessus"),
        validators=[DataRequired(_l("Cochez la case pour accepter la charte d'utilisation."))])


class PupilCharterForm(CharterForm):
    """A pupil's page says "tu"."""

    accept = BooleanField(
        _l("j'ai lu et j'accepte les conditions ci-dessus"),
        validators=[DataRequired(_l("Coche la case pour accepter la charte d'utilisation."))])
