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
