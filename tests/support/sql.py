"""The SQL statements the app runs, recorded while a test says so (`statements.on`), on
each of its engines (`engines()`: the request's, and on PostgreSQL db.alone's)."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from idp.db import db


class Recorder:
    """The SQL statements run while `on`."""

    def __init__(self):
        self.on, self.seen = False, []

    def __call__(self, _conn, _cursor, statement, *_args):
        if self.on:
            self.seen.append(statement)


def engines() -> list:
    """The engines the app runs statements on (call inside the app's context)."""
    return list(dict.fromkeys([db.engine, db.alone_engine()]))


def listen(fn) -> list:
    """`fn` before every statement on every engine; returns what to give `unlisten`."""
    found = engines()
    for engine in found:
        event.listen(engine, "before_cursor_execute", fn)
    return found


def unlisten(found: list, fn) -> None:
    for engine in found:
        event.remove(engine, "before_cursor_execute", fn)


@pytest.fixture
def statements(app):
    recorder = Recorder()
    with app.app_context():
        found = listen(recorder)
    yield recorder
    unlisten(found, recorder)
