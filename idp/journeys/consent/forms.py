from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class ConsentForm(FlaskForm):
    """Two buttons: the one pressed is the answer."""

    allow = SubmitField(_l("Autoriser"))
    deny = SubmitField(_l("Refuser"))


class WithdrawForm(FlaskForm):
    """Empty: the CSRF token is the point (withdrawing is a POST)."""
