"""Console forms shared by several pages, and the French checks of URIs and lists.

The services validate again (they are also behind the CLI); these checks exist so the
operator reads a French reason next to the field that needs fixing.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class EmptyForm(FlaskForm):
    """Only the CSRF token: one-click actions (disable, rotate, unlock) are POSTs."""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be registered (same rule as oidc.clients.check_redirect_uri)."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return str(_l("« %(uri)s » n'est pas une adresse valide.", uri=uri))
    if parts.scheme not in ("https", "http") or not parts.netloc or not host:
        return str(_l("« %(uri)s » n'est pas une adresse absolue (https://…).", uri=uri))
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        return str(_l("« %(uri)s » : http n'est permis que pour localhost ; utilisez https.",
                      uri=uri))
    if parts.fragment or uri.endswith("#"):
        return str(_l("« %(uri)s » ne doit pas contenir de fragment (#…).", uri=uri))
    return None


def lines(text: str | None) -> list[str]:
    """One value per line (blank lines and surrounding spaces ignored, order kept)."""
    return list(dict.fromkeys(line.strip() for line in (text or "").splitlines()
                              if line.strip()))


def check_uri_lines(required: bool):
    def validator(form, field):
        values = lines(field.data)
        if required and not values:
            raise ValidationError(_l("Indiquez au moins une adresse de retour."))
        if len(values) > 20:
            raise ValidationError(_l("20 adresses au plus."))
        problems = [p for p in (uri_problem(v) for v in values) if p]
        if problems:
            raise ValidationError(" ".join(problems))
    return validator


def check_optional_uri(form, field):
    value = (field.data or "").strip()
    if value:
        problem = uri_problem(value)
        if problem:
            raise ValidationError(problem)
