from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired


class NoticeForm(FlaskForm):
    notice = HiddenField()
    acknowledge = BooleanField(
        _l("J'ai pris connaissance de ces informations"),
        validators=[DataRequired(_l("Cochez la case pour indiquer que vous avez pris "
                                    "connaissance de ces informations."))])


class PupilNoticeForm(NoticeForm):
    """A pupil's page says "tu"."""

    acknowledge = BooleanField(
        _l("J'ai pris connaissance de ces informations"),
        validators=[DataRequired(_l("Coche la case pour indiquer que tu as pris "
                                    "connaissance de ces informations."))])
