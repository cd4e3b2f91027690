"""The SQL statements the app runs, recorded while a test says so (`statements.on`)."""
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


@pytest.fixture
def statements(app):
    recorder = Recorder()
    event.listen(db.engine, "before_cursor_execute", recorder)
    yield recorder
    event.remove(db.engine, "before_cursor_execute", recorder)
