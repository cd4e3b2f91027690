from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..fields import NewPasswordTwice, PasswordPolicy, new_password_pair

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


def normalise_email(raw: str, informal: bool = False) -> str:
    """The address as we store it, or ValidationError with a French message ("tu" when
    `informal`, for a pupil's page)."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(
            _l("Saisis une adresse de messagerie valide, par exemple prenom.nom@exemple.fr.")
            if informal else _l("Saisissez une adresse de messagerie valide, par exemple "
                                "prenom.nom@exemple.fr.")) from None


class EmailValid:
    def __init__(self, informal: bool = False):
        self.informal = informal

    def __call__(self, form, field):
        if field.data:
            field.data = normalise_email(field.data, self.informal)


class BirthDateValid:
    def __init__(self, informal: bool = False):
        self.informal = informal

    def __call__(self, form, field):
        if field.data and parse_birth_date(field.data) is None:
            raise ValidationError(
                _l("Saisis la date au format JJ/MM/AAAA, par exemple 14/03/2012.")
                if self.informal else _l("Saisissez la date au format JJ/MM/AAAA, par "
                                         "exemple 14/03/2012."))


class FirstConnectionForm(NewPasswordTwice, FlaskForm):
    """The first-connection rules. Collaborators, passed in by the view: `policy` (the
    password rules for this account), `pupil` (a pupil may go on without an email),
    `check_birth_date` (date -> matches the school's record, counting a failure; None when
    there is nothing to check against: the field goes) and `failures_left`."""
    password, password_confirm = new_password_pair()
    all_problems_at_once = True
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

    def __init__(self, *args, policy: PasswordPolicy | None = None, pupil: bool = False,
                 check_birth_date: Callable[[date], bool] | None = None,
                 failures_left: Callable[[], int] = lambda: 0, password_kept: bool = False,
                 **kwargs):
        super().__init__(*args, policy=policy, **kwargs)
        self.pupil, self.check_birth_date, self.failures_left = \
            pupil, check_birth_date, failures_left
        self.password_kept = password_kept
        if password_kept:  # chosen in an earlier round: typing it again is optional
            for name in ("password", "password_confirm"):
                self[name].validators = [Optional(), Length(max=1024)]
                self[name].flags.required = False
        if check_birth_date is None:
            del self.birth_date

    def password_accepted(self) -> bool:
        """The typed password passed every rule and its confirmation (kept for the next
        round when only other fields were wrong)."""
        return bool(self.password.data) and not self.password.errors \
            and not self.password_confirm.errors

    def validate(self, extra_validators=None) -> bool:
        """The password rules and every field first; the birth date is compared with the
        school's record (spending one of the tries when wrong) only once nothing else is
        wrong, so a hurried family does not lose a try to a form that could not pass."""
        valid = super().validate(extra_validators)
        valid = self._email_given() and valid
        return valid and self._birth_date_matches()

    def _birth_date_matches(self) -> bool:
        """Compared only on an otherwise valid form: each wrong date then counts."""
        if "birth_date" not in self._fields:
            return True
        field = self.birth_date
        if field.errors or not field.data \
                or self.check_birth_date(parse_birth_date(field.data)):
            return True
        field.errors = list(field.errors) + [ngettext(
            "Cette date ne correspond pas à celle connue de l'établissement. "
            "Il reste %(num)d essai.",
            "Cette date ne correspond pas à celle connue de l'établissement. "
            "Il reste %(num)d essais.", self.failures_left())]
        return False

    def _email_given(self) -> bool:
        """An adult needs an email; a pupil gives one or ticks "no email"."""
        if self.email.data or self.email.errors:
            return True
        if not self.pupil:
            message = _("Saisissez votre adresse de messagerie : elle est indispensable "
                        "pour activer votre compte.")
        elif not self.no_email.data:
            message = _("Saisis ton adresse mail, ou coche « Je n'ai pas d'adresse mail ».")
        else:
            return True
        self.email.errors = list(self.email.errors) + [message]
        return False


class PupilFirstConnectionForm(FirstConnectionForm):
    """The same rules on a pupil's page, whose every sentence says "tu" (as the pupils'
    letter does): the fields are the parent's, with their messages and labels informal."""
    password, password_confirm = new_password_pair(informal=True)
    birth_date = StringField(
        _l("Ta date de naissance"),
        validators=[InputRequired(_l("Saisis ta date de naissance.")),
                    Length(max=20), BirthDateValid(informal=True)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": "JJ/MM/AAAA"})
    email = EmailField(
        _l("Adresse de messagerie"),
        validators=[Optional(), Length(max=254, message=_l("Adresse trop longue.")),
                    EmailValid(informal=True)],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, pupil=True, **kwargs)


class EmailForm(FlaskForm):
    """Change the address while the account waits for its link."""
    email = EmailField(
        _l("Nouvelle adresse de messagerie"),
        validators=[InputRequired(_l("Saisissez une adresse de messagerie.")),
                    Length(max=254, message=_l("Adresse trop longue.")), EmailValid()],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"})


class ResendForm(FlaskForm):
    """Empty: the CSRF token is the point."""
