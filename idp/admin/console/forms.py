"""Console forms shared by several pages. The rules of relying parties' settings are
the protocol packages' (idp.oidc.clients.validate_client, idp.saml.registry.validate_sp),
with the French reason the console shows beside the field."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from ...oidc.clients import uri_problem as oidc_uri_problem


class EmptyForm(FlaskForm):
    """Only the CSRF token: one-click actions (disable, rotate, unlock) are POSTs."""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be registered, in French (idp.oidc.clients.uri_problem's rule)."""
    problem = oidc_uri_problem(uri)
    return problem.shown() if problem else None


def lines(text: str | None) -> list[str]:
    """One value per line (blank lines and surrounding spaces ignored, order kept)."""
    return list(dict.fromkeys(line.strip() for line in (text or "").splitlines()
                              if line.strip()))
