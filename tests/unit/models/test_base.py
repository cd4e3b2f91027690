"""models/base.py: the one `utcnow` and UTCDateTime, the column type that hands back aware
UTC datetimes on SQLite (which keeps no zone) as on PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import DateTime, select

from idp.db import db
from idp.models import AuditEvent, Base, UTCDateTime, utcnow
from idp.models.base import as_utc

PARIS_SUMMER = timezone(timedelta(hours=2))


def test_utcnow_is_aware_utc_and_now():
    before = datetime.now(timezone.utc)
    now = utcnow()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(timezone.utc)


def test_as_utc_takes_naive_as_utc_and_converts_other_zones():
    naive = datetime(2026, 3, 14, 9, 30)
    assert as_utc(naive) == datetime(2026, 3, 14, 9, 30, tzinfo=timezone.utc)
    paris = datetime(2026, 7, 1, 12, 0, tzinfo=PARIS_SUMMER)
    converted = as_utc(paris)
    assert converted == paris and converted.tzinfo is timezone.utc
    assert converted.hour == 10
    assert as_utc(None) is None


def test_the_type_converts_both_ways_without_a_database():
    kind = UTCDateTime()
    naive_from_sqlite = datetime(2026, 1, 2, 3, 4, 5)
    back = kind.process_result_value(naive_from_sqlite, None)
    assert back == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    bound = kind.process_bind_param(datetime(2026, 7, 1, 12, 0, tzinfo=PARIS_SUMMER), None)
    assert bound.tzinfo is timezone.utc and bound.hour == 10
    assert kind.process_bind_param(None, None) is None
    assert kind.process_result_value(None, None) is None


def test_every_datetime_column_of_the_models_uses_it():
    columns = [column for table in Base.metadata.sorted_tables for column in table.columns
               if isinstance(column.type, (DateTime, UTCDateTime))]
    assert columns, "the models have datetime columns"
    assert [str(c) for c in columns if not isinstance(c.type, UTCDateTime)] == []


def test_same_ddl_as_before_so_no_migration(app):
    """The decorator compiles to DateTime(timezone=True)'s type on the test database."""
    with app.app_context():
        dialect = db.engine.dialect
        assert dialect.type_compiler.process(UTCDateTime()) == \
            dialect.type_compiler.process(DateTime(timezone=True))


def _stored_event(app, at: datetime) -> int:
    with app.app_context():
        event = AuditEvent(action="test_event", at=at)
        db.session.add(event)
        db.session.commit()
        return event.id


def test_a_stored_datetime_comes_back_aware_in_utc(app):
    when = datetime(2026, 7, 1, 12, 0, 30, 123456, tzinfo=PARIS_SUMMER)
    event_id = _stored_event(app, when)
    with app.app_context():
        loaded = db.session.get(AuditEvent, event_id)
        assert loaded.at == when
        assert loaded.at.utcoffset() == timedelta(0)
        via_core = db.session.execute(select(AuditEvent.at).where(
            AuditEvent.id == event_id)).scalar_one()
        assert via_core == when and via_core.tzinfo is not None


def test_a_naive_datetime_is_stored_as_utc(app):
    event_id = _stored_event(app, datetime(2026, 1, 15, 8, 0))
    with app.app_context():
        assert db.session.get(AuditEvent, event_id).at == \
            datetime(2026, 1, 15, 8, 0, tzinfo=timezone.utc)


def test_comparisons_in_sql_use_the_same_instant(app):
    """Stored in UTC whatever zone it came in, so SQLite's text comparison is right too."""
    event_id = _stored_event(app, datetime(2026, 7, 1, 12, 0, tzinfo=PARIS_SUMMER))  # 10:00Z
    with app.app_context():
        def stored_before(moment: datetime) -> bool:
            return db.session.execute(select(AuditEvent.id).where(
                AuditEvent.id == event_id, AuditEvent.at < moment)).scalar() is not None

        assert stored_before(datetime(2026, 7, 1, 10, 30, tzinfo=timezone.utc))
        assert not stored_before(datetime(2026, 7, 1, 9, 30, tzinfo=timezone.utc))
        assert stored_before(datetime(2026, 7, 1, 11, 1, tzinfo=timezone(timedelta(hours=1))))
