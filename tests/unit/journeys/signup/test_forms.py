"""signup/forms.py: the pupils page's rules in the form (link and birth date per pupil),
with the pupils, the matching rule and the failure counter passed in; and the typed
outcomes the transaction keeps as plain strings in the store."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from idp.journeys.signup.forms import pupils_form_class
from idp.journeys.signup.matching import MatchOutcome
from idp.journeys.signup.state import SignupTransaction, StopReason

PUPILS = [SimpleNamespace(id=11, birth_date=date(2012, 3, 14)),
          SimpleNamespace(id=12, birth_date=date(2015, 9, 1))]


class Failures:
    def __init__(self, tries=3):
        self.tries = tries

    def count(self) -> int:
        self.tries -= 1
        return self.tries


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context("/"):
        yield


def _form(failures=None, **typed):
    failures = failures or Failures()
    return pupils_form_class(len(PUPILS))(
        MultiDict(typed), meta={"csrf": False}, pupils=PUPILS,
        matches=lambda pupil, value: pupil.birth_date == value, count_failure=failures.count)


def test_right_answers_give_what_to_keep():
    form = _form(link_0="yes", day_0="14", month_0="3", year_0="2012", link_1="no")
    assert form.validate(), form.errors
    assert form.answers == {"11": "yes", "12": "no"}
    assert form.dates == {"11": ["14", "3", "2012"]}


def test_a_missing_link_or_date_is_said_beside_the_pupil_and_counts_nothing():
    failures = Failures()
    form = _form(failures, link_0="maybe", link_1="yes", day_1="", month_1="", year_1="")
    assert not form.validate()
    assert form.link_0.errors == ["Indiquez si vous représentez légalement cet élève."]
    assert form.day_1.errors == ["Saisissez la date de naissance de l'élève : jour, mois et "
                                 "année (JJ MM AAAA)."]
    assert failures.tries == 3 and not form.no_tries_left


def test_a_wrong_date_counts_once_and_says_the_tries_left():
    failures = Failures()
    form = _form(failures, link_0="yes", day_0="15", month_0="3", year_0="2012",
                 link_1="yes", day_1="2", month_1="9", year_1="2015")
    assert not form.validate()
    assert failures.tries == 2 and not form.no_tries_left
    message = ("Cette date ne correspond pas à celle connue de l'établissement. Il reste "
               "2 essais.")
    assert form.day_0.errors == [message] and form.day_1.errors == [message]


def test_the_last_wrong_try_is_flagged():
    form = _form(Failures(tries=1), link_0="yes", day_0="15", month_0="3", year_0="2012",
                 link_1="no")
    assert not form.validate()
    assert form.no_tries_left


def test_the_transaction_keeps_its_outcomes_as_strings_and_reads_them_back_typed():
    tx = SignupTransaction(owner="o", first_name="Léa", last_name="Martin",
                           phone="+33612345678", raw_phone="06 12 34 56 78", region="FR",
                           outcome=MatchOutcome.adopt, stop_reason=StopReason.no_pupil)
    stored = json.loads(json.dumps(asdict(tx)))
    assert stored["outcome"] == "adopt" and stored["stop_reason"] == "no_pupil"
    back = SignupTransaction(**stored)
    assert back.outcome is MatchOutcome.adopt and back.outcome.makes_account
    assert back.stop_reason is StopReason.no_pupil
    assert not MatchOutcome("existing").makes_account
