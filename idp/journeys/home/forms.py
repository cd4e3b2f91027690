from __future__ import annotations

from flask_wtf import FlaskForm


class EverywhereForm(FlaskForm):
    """"Se déconnecter partout": a POST with its CSRF token."""
