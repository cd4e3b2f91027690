"""Forms of the SSO session itself, shared by the journeys and the protocol adapters."""
from __future__ import annotations

from flask_wtf import FlaskForm


class LogoutForm(FlaskForm):
    """Empty: the CSRF token is the point (logout, and other one-button POSTs)."""
