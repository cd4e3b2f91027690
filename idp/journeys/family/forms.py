from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField


class ChildActionForm(FlaskForm):
    """An action on one pupil of "Mes enfants": a POST with its CSRF token (the pupil is
    named by the URL and checked against the representative's links)."""


class CloseAccountForm(FlaskForm):
    """"Fermer mon compte": the box says the family understood what it loses."""
    understood = BooleanField()
