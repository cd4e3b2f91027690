"""The sign-up forms: French messages beside each field, nothing typed lost."""
from __future__ import annotations

import re

from collections.abc import Callable
from datetime import date

from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from ...roster.names import clean_name
from ...security.sms_codes import normalise_code
from ..fields import NewPasswordTwice, region_and_mobile_fields

NAME_MAX = 100


class NameValid:
    def __call__(self, form, field):
        field.data = clean_name(field.data or "")
        if field.data and not any(c.isalpha() for c in field.data):
            raise ValidationError(_l("Saisissez le nom tel que l'établissement le connaît, "
                                     "en lettres."))


class IdentityForm(FlaskForm):
    """"Je confirme mon identité" and "Je renseigne mon n° de téléphone portable"."""
    last_name = StringField(
        _l("Nom"), validators=[InputRequired(_l("Saisissez votre nom.")),
                               Length(max=NAME_MAX, message=_l("Nom trop long.")), NameValid()],
        render_kw={"autocomplete": "family-name", "spellcheck": "false"})
    first_name = StringField(
        _l("Prénom"), validators=[InputRequired(_l("Saisissez votre prénom.")),
                                  Length(max=NAME_MAX, message=_l("Prénom trop long.")),
                                  NameValid()],
        render_kw={"autocomplete": "given-name", "spellcheck": "false"})
    region, phone = region_and_mobile_fields()
    attempt = HiddenField()  # one value per page shown: a double submit is recognised

    e164: str | None = None


class CodeValid:
    def __call__(self, form, field):
        if field.data and normalise_code(field.data) is None:
            raise ValidationError(_l("Le code de sécurité comporte 6 chiffres, par exemple "
                                     "123 456."))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code de sécurité"),
        validators=[InputRequired(_l("Saisissez le code de sécurité reçu par SMS.")),
                    Length(max=20, message=_l("Le code de sécurité comporte 6 chiffres.")),
                    CodeValid()],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                   "spellcheck": "false"})


class EmptyForm(FlaskForm):
    """"Renvoyer le SMS": the CSRF token is the point."""


LINK_CHOICES = [("yes", _l("Je représente légalement cet élève")),
                ("no", _l("Je ne représente pas légalement cet élève"))]


class PupilsFormBase(FlaskForm):
    """For each pupil listed, the link and, when "yes", the birth date, which must match
    the school's record. Collaborators passed in: `pupils` (as listed on the page),
    `matches(pupil, date)` and `count_failure()` (counts a wrong try, gives the tries
    left). Once valid, `answers` and `dates` hold what to keep; `no_tries_left` is set
    when that wrong try was the last one."""

    def __init__(self, *args, pupils=(), matches: Callable[[object, date], bool] | None = None,
                 count_failure: Callable[[], int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pupils, self.matches, self.count_failure = list(pupils), matches, count_failure
        self.answers: dict[str, str] = {}
        self.dates: dict[str, list[str]] = {}
        self.no_tries_left = False

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        typed = self._answers_typed()
        if typed is None:
            return False
        wrong = [n for n, value in typed.items() if not self.matches(self.pupils[n], value)]
        if not wrong:
            return True
        left = self.count_failure()
        self.no_tries_left = left == 0
        for n in wrong:
            self[f"day_{n}"].errors = [ngettext(
                "Cette date ne correspond pas à celle connue de l'établissement. Il reste "
                "%(num)d essai.", "Cette date ne correspond pas à celle connue de "
                "l'établissement. Il reste %(num)d essais.", left)]
        return False

    def _answers_typed(self) -> dict[int, date] | None:
        """Fill answers and dates; the dates typed by pupil index, or None when an answer
        is missing or a date is not one (messages beside the fields)."""
        typed, invalid = {}, False
        for n, pupil in enumerate(self.pupils):
            link = self[f"link_{n}"].data
            if link not in ("yes", "no"):
                self[f"link_{n}"].errors = [_("Indiquez si vous représentez légalement "
                                              "cet élève.")]
                invalid = True
                continue
            self.answers[str(pupil.id)] = link
            if link == "yes":
                value, problem = typed_date(self, n)
                if problem:
                    self[f"day_{n}"].errors = [problem]
                    invalid = True
                typed[n] = value
                self.dates[str(pupil.id)] = [self[f"{part}_{n}"].data
                                             for part in ("day", "month", "year")]
        return None if invalid else typed


def pupils_form_class(count: int) -> type[PupilsFormBase]:
    """A form with, for pupil n: link_n (yes/no) and day_n, month_n, year_n."""
    fields = {}
    for n in range(count):
        fields[f"link_{n}"] = RadioField(_l("Je confirme mon lien avec l'élève"),
                                         choices=LINK_CHOICES, default="yes",
                                         validate_choice=False)
        # Room for a whole date typed or pasted in the day box ("12/10/2013"): it is
        # split into the three boxes (typed_date; static/js/comfort.js as it is typed).
        fields[f"day_{n}"] = StringField(_l("Jour (JJ)"), render_kw={
            "inputmode": "numeric", "maxlength": 10, "autocomplete": "off", "size": 2})
        fields[f"month_{n}"] = StringField(_l("Mois (MM)"), render_kw={
            "inputmode": "numeric", "maxlength": 2, "autocomplete": "off", "size": 2})
        fields[f"year_{n}"] = StringField(_l("Année (AAAA)"), render_kw={
            "inputmode": "numeric", "maxlength": 4, "autocomplete": "off", "size": 4})
    return type("PupilsForm", (PupilsFormBase,), fields)


WHOLE_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})\s*$")


def split_whole_date(form, n: int) -> None:
    """A whole date ("12/10/2013", "12 10 2013") typed in pupil n's day box, the month and
    year boxes empty: spread over the three boxes, as the page shows it back."""
    day, month, year = (getattr(form, f"{name}_{n}") for name in ("day", "month", "year"))
    match = WHOLE_DATE.match(day.data or "")
    if match and not (month.data or "").strip() and not (year.data or "").strip():
        day.data, month.data, year.data = match.groups()


def typed_date(form, n: int) -> tuple[date | None, str | None]:
    """The date typed for pupil n, or (None, French message) when missing or not a date."""
    split_whole_date(form, n)
    parts = [(getattr(form, f"{name}_{n}").data or "").strip()
             for name in ("day", "month", "year")]
    if not any(parts):
        return None, str(_l("Saisissez la date de naissance de l'élève : jour, mois et "
                            "année (JJ MM AAAA)."))
    day, month, year = parts
    if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4
            and len(day) <= 2 and len(month) <= 2):
        return None, str(_l("Saisissez la date avec des chiffres : le jour (JJ), le mois "
                            "(MM) et l'année sur 4 chiffres (AAAA), par exemple 14 03 2012."))
    try:
        return date(int(year), int(month), int(day)), None
    except ValueError:
        return None, str(_l("Cette date n'existe pas : vérifiez le jour et le mois."))


class PasswordForm(NewPasswordTwice, FlaskForm):
    """The password twice; the policy (it knows the family's names and the pupils' birth
    dates) is passed in as `policy=`."""
    password = PasswordField(
        _l("Mot de passe"),
        validators=[InputRequired(_l("Choisissez un mot de passe.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"})
    password_confirm = PasswordField(
        _l("Confirmation du nouveau mot de passe"),
        validators=[InputRequired(_l("Saisissez à nouveau le mot de passe.")),
                    Length(max=1024)],
        render_kw={"autocomplete": "new-password"})
