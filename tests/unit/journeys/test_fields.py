"""journeys/fields.py: NewPasswordTwice, the one "new password twice" rule (the policy
passed in, then the confirmation), used by activation, sign-up, recovery and Mon compte."""
from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import InputRequired

from idp.journeys.fields import NewPasswordTwice, new_password_pair

DIFFER = "Les deux mots de passe ne sont pas identiques."
GOOD = "Cheval-Batterie-7"


class PasswordTwice(NewPasswordTwice, FlaskForm):
    password, password_confirm = new_password_pair()


class MismatchBesidePassword(PasswordTwice):
    mismatch_field = "password"


class WaitsForEveryField(PasswordTwice):
    rules_wait_for_all_fields = True
    nickname = StringField("Surnom", validators=[InputRequired("Saisissez un surnom.")])


class Policy:
    """A policy collaborator that says what it was asked."""

    def __init__(self, *problems: str):
        self.problems, self.asked = list(problems), []

    def __call__(self, password: str) -> list[str]:
        self.asked.append(password)
        return self.problems


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context("/"):
        yield


def _form(cls=PasswordTwice, policy=None, **typed):
    return cls(MultiDict(typed), policy=policy, meta={"csrf": False})


def test_same_password_twice_within_the_policy_is_valid():
    policy = Policy()
    form = _form(policy=policy, password=GOOD, password_confirm=GOOD)
    assert form.validate()
    assert policy.asked == [GOOD]
    assert form.errors == {}


def test_two_different_passwords_are_refused_beside_the_confirmation():
    form = _form(policy=Policy(), password=GOOD, password_confirm=GOOD + "x")
    assert not form.validate()
    assert form.password_confirm.errors == [DIFFER]
    assert form.password.errors == []


def test_policy_problems_go_beside_the_password_and_come_before_the_confirmation():
    form = _form(policy=Policy("Trop court.", "Sans chiffre."), password="abc",
                 password_confirm="abd")
    assert not form.validate()
    assert form.password.errors == ["Trop court.", "Sans chiffre."]
    assert form.password_confirm.errors == []


def test_an_empty_confirmation_says_so_and_that_they_differ():
    form = _form(policy=Policy(), password=GOOD, password_confirm="")
    assert not form.validate()
    assert form.password_confirm.errors == [
        "Saisissez à nouveau le nouveau mot de passe.", DIFFER]


def test_no_password_typed_asks_for_it_without_asking_the_policy():
    policy = Policy("never shown")
    form = _form(policy=policy, password="", password_confirm=GOOD)
    assert not form.validate()
    assert form.password.errors == ["Choisissez un nouveau mot de passe."]
    assert policy.asked == []


def test_without_a_policy_only_the_confirmation_is_checked():
    assert _form(password=GOOD, password_confirm=GOOD).validate()
    assert not _form(password=GOOD, password_confirm="other").validate()


def test_the_mismatch_can_be_shown_beside_the_password():
    form = _form(MismatchBesidePassword, policy=Policy(), password=GOOD,
                 password_confirm="other")
    assert not form.validate()
    assert form.password.errors == [DIFFER]
    assert form.password_confirm.errors == []


def test_rules_may_wait_for_every_field():
    policy = Policy("never shown")
    form = _form(WaitsForEveryField, policy=policy, password=GOOD, password_confirm="other",
                 nickname="")
    assert not form.validate()
    assert policy.asked == [] and form.password_confirm.errors == []
    form = _form(WaitsForEveryField, policy=Policy(), password=GOOD, password_confirm="other",
                 nickname="Zaza")
    assert not form.validate()
    assert form.password_confirm.errors == [DIFFER]
