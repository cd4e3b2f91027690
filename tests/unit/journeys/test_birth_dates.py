"""journeys/birth_dates.py: the one wrong-birth-date count of sign-up, FranceConnect's
first link and "Ajouter un enfant" by SMS (per attempt, in the store, one limit; the
signed-out journeys also block the number for a day)."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from idp.journeys import birth_dates

PHONE = "+33612345678"


@pytest.fixture(autouse=True)
def app_context(app, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNUP_BIRTH_DATE_MAX_FAILURES", 3)
    with app.app_context():
        yield


def test_the_date_must_be_the_records():
    pupil = SimpleNamespace(birth_date=date(2013, 5, 20))
    assert birth_dates.matches(pupil, date(2013, 5, 20))
    assert not birth_dates.matches(pupil, date(2013, 5, 21))


def test_one_page_may_count_several_and_none_reads_the_count():
    assert birth_dates.count_wrong("attach-birth:t", 60, 2) == birth_dates.Count(2, 1)
    assert birth_dates.count_wrong("attach-birth:t", 60, 0) == birth_dates.Count(2, 1)
    last = birth_dates.count_wrong("attach-birth:t", 60, 2)
    assert last.failures == 4 and last.left == 0 and last.over
    assert not birth_dates.number_blocked(PHONE)  # no number given: none blocked


def test_the_limit_blocks_the_number_when_asked():
    for _ in range(2):
        assert not birth_dates.count_wrong("signup-birth:t", 60, block_number=PHONE).over
    assert not birth_dates.number_blocked(PHONE)
    assert birth_dates.count_wrong("signup-birth:t", 60, block_number=PHONE).over
    assert birth_dates.number_blocked(PHONE)
