"""The `paris` filter (idp/local_time.py): every moment the console shows, on Paris's
clock, CET in winter and CEST in summer; naive datetimes are UTC."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from idp.local_time import paris, to_paris

UTC = timezone.utc


def test_winter_is_utc_plus_one_naive_or_aware():
    assert paris(datetime(2026, 1, 15, 10, 0, tzinfo=UTC)) == "15/01/2026 11:00"
    assert paris(datetime(2026, 1, 15, 10, 0)) == "15/01/2026 11:00"  # naive: UTC
    assert to_paris(datetime(2026, 1, 15, 10, 0)).utcoffset() == timedelta(hours=1)


def test_summer_is_utc_plus_two_naive_or_aware():
    assert paris(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)) == "01/07/2026 12:00"
    assert paris(datetime(2026, 7, 1, 10, 0)) == "01/07/2026 12:00"
    assert to_paris(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)).utcoffset() == timedelta(hours=2)


def test_an_aware_moment_in_another_zone_is_the_same_instant():
    new_york = timezone(timedelta(hours=-4))
    assert paris(datetime(2026, 7, 1, 6, 0, tzinfo=new_york)) == "01/07/2026 12:00"


def test_the_clock_changes_and_the_day_after_midnight():
    # 29 March 2026: 01:00 UTC is 03:00 CEST; 25 October: 02:30 comes twice.
    assert paris(datetime(2026, 3, 29, 0, 59), "%H:%M") == "01:59"
    assert paris(datetime(2026, 3, 29, 1, 0), "%H:%M") == "03:00"
    assert paris(datetime(2026, 10, 25, 0, 30), "%H:%M %Z") == "02:30 CEST"
    assert paris(datetime(2026, 10, 25, 1, 30), "%H:%M %Z") == "02:30 CET"
    assert paris(datetime(2026, 12, 31, 23, 30), "%Y-%m-%d") == "2027-01-01"


def test_unix_times_iso_strings_and_nothing():
    hour = int(datetime(2026, 7, 1, 10, 0, tzinfo=UTC).timestamp())
    assert paris(hour, "%d/%m %H:00") == "01/07 12:00"
    assert paris("2026-01-15T10:00:00+00:00", "%Y-%m-%d %H:%M") == "2026-01-15 11:00"
    assert paris("2026-01-15T10:00:00", "%Y-%m-%d %H:%M") == "2026-01-15 11:00"
    assert paris(None) == "" and paris("") == ""


def test_the_filter_is_registered_on_the_app(app):
    with app.app_context():
        rendered = app.jinja_env.from_string("{{ at|paris('%H:%M') }}").render(
            at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    assert rendered == "12:00"
