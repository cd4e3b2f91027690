"""activation/forms.py: the first-connection rules in FirstConnectionForm, with its
collaborators (policy, pupil, birth-date check, tries left) passed in."""
from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from idp.journeys.activation.forms import FirstConnectionForm

GOOD = "Cheval-Batterie-7"
BORN = date(2012, 3, 14)


class BirthDates:
    """The school's record: counts wrong guesses like the service does."""

    def __init__(self, known=BORN, tries=5):
        self.known, self.tries, self.guesses = known, tries, []

    def check(self, value: date) -> bool:
        self.guesses.append(value)
        if value == self.known:
            return True
        self.tries -= 1
        return False

    def left(self) -> int:
        return self.tries


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context("/"):
        yield


def _form(birth_dates=None, pupil=False, policy=lambda p: [], **typed):
    fields = {"password": GOOD, "password_confirm": GOOD, "birth_date": "14/03/2012",
              "email": "parent@example.fr"}
    fields.update(typed)
    birth_dates = birth_dates or BirthDates()
    return FirstConnectionForm(MultiDict(fields), meta={"csrf": False}, policy=policy,
                               pupil=pupil, check_birth_date=birth_dates.check,
                               failures_left=birth_dates.left)


def test_everything_right_is_valid():
    form = _form()
    assert form.validate(), form.errors


def test_no_birth_date_try_is_spent_while_other_fields_are_wrong():
    """Issue 21, point 8: a form that could not pass anyway spends no try."""
    dates = BirthDates()
    for wrong in ({"password_confirm": "other"}, {"email": ""},
                  {"policy": lambda typed: ["8 caractères minimum."]}):
        form = _form(dates, birth_date="15/03/2012", **wrong)
        assert not form.validate()
        assert form.birth_date.errors == []
    assert dates.guesses == []


def test_a_wrong_birth_date_counts_and_says_the_tries_left():
    dates = BirthDates()
    form = _form(dates, birth_date="15/03/2012")
    assert not form.validate()
    assert dates.guesses == [date(2012, 3, 15)]
    assert form.birth_date.errors == [
        "Cette date ne correspond pas à celle connue de l'établissement. "
        "Il reste 4 essais."]


def test_every_password_problem_is_said_at_once():
    """Issue 21, point 8: the rules it breaks and the differing confirmation together."""
    form = _form(BirthDates(), password="Durand-2012!x", password_confirm="Durand-2012!y",
                 policy=lambda typed: ["Le mot de passe ne doit contenir ni votre nom."])
    assert not form.validate()
    assert form.password.errors == ["Le mot de passe ne doit contenir ni votre nom."]
    assert form.password_confirm.errors == ["Les deux mots de passe ne sont pas identiques."]


def test_a_date_that_is_not_one_is_not_checked_against_the_record():
    dates = BirthDates()
    form = _form(dates, birth_date="31/02/2012")
    assert not form.validate()
    assert dates.guesses == []
    assert form.birth_date.errors == ["Saisissez la date au format JJ/MM/AAAA, par exemple "
                                      "14/03/2012."]


def test_without_known_birth_dates_the_field_goes():
    form = FirstConnectionForm(MultiDict({"password": GOOD, "password_confirm": GOOD,
                                          "email": "parent@example.fr"}),
                               meta={"csrf": False}, check_birth_date=None)
    assert "birth_date" not in form._fields
    assert form.validate(), form.errors


def test_the_policy_passed_in_is_applied():
    form = _form(policy=lambda p: ["Choisissez un mot de passe différent du mot de passe "
                                   "provisoire."])
    assert not form.validate()
    assert form.password.errors == ["Choisissez un mot de passe différent du mot de passe "
                                    "provisoire."]


def test_an_adult_must_give_an_email():
    form = _form(email="")
    assert not form.validate()
    assert form.email.errors == ["Saisissez votre adresse de messagerie : elle est "
                                 "indispensable pour activer votre compte."]


def test_a_pupil_gives_an_email_or_ticks_no_email():
    form = _form(pupil=True, email="")
    assert not form.validate()
    assert form.email.errors == ["Saisis ton adresse mail, ou coche « Je n'ai pas "
                                 "d'adresse mail »."]
    assert _form(pupil=True, email="", no_email="y").validate()
