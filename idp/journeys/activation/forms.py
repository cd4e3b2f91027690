from __future__ import annotations

import re
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..fields import new_password_pair

DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})\s*$")


def parse_birth_date(raw: str) -> date | None:
    """JJ/MM/AAAA (also with -, . or spaces); None when not a real date."""
    match = DATE.match(raw or "")
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def normalise_email(raw: str) -> str:
    """The address as we store it, or ValidationError with a French message."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(_l("Saisissez une adresse de messagerie valide, par exemple "
                                 "prenom.nom@exemple.fr.")) from None


class EmailValid:
    def __call__(self, form, field):
        if field.data:
            field.data = normalise_email(field.data)


class BirthDateValid:
    def __call__(self, form, field):
        if field.data and parse_birth_date(field.data) is None:
            raise ValidationError(_l("Saisissez la date au format JJ/MM/AAAA, par exemple "
                                     "14/03/2012."))


class FirstConnectionForm(FlaskForm):
    password, password_confirm = new_password_pair()
    birth_date = StringField(
        _l("Date de naissance de votre enfant"),
        validators=[InputRequired(_l("Saisissez la date de naissance.")),
                    Length(max=20), BirthDateValid()],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": "JJ/MM/AAAA"})
    email = EmailField(
        _l("Adresse de messagerie"),
        validators=[Optional(), Length(max=254, message=_l("Adresse trop longue.")),
                    EmailValid()],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})
    no_email = BooleanField(_l("Je n'ai pas d'adresse mail : je continue sans"))


class EmailForm(FlaskForm):
    """Change the address while the account waits for its link."""
    email = EmailField(
        _l("Nouvelle adresse de messagerie"),
        validators=[InputRequired(_l("Saisissez une adresse de messagerie.")),
                    Length(max=254, message=_l("Adresse trop longue.")), EmailValid()],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})


class ResendForm(FlaskForm):
    """Empty: the CSRF token is the point."""
