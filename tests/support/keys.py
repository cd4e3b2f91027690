"""Fixtures for tests that change the signing keys or run a second node.

`keys_restored`: the session's signing keys are put back after the test (rows as they
were, version bumped), so a test may rotate, tamper or delete them. `node(**overrides)`:
another app built from the same settings (same database and store): a second node.
"""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from idp import create_app
from idp.db import db
from idp.keys.version import bump
from idp.models import SigningKey

TABLE = SigningKey.__table__


@pytest.fixture
def keys_restored(app):
    with app.app_context():
        with db.engine.connect() as conn:
            saved = [dict(row) for row in conn.execute(select(TABLE)).mappings()]
    yield saved
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(TABLE.delete())
            conn.execute(TABLE.insert(), saved)
        bump(app.extensions["idp"]["store"])
        app.extensions["idp"]["keyring"].forget()


@pytest.fixture
def node(settings):
    """node(**overrides): a second app on the same database and store."""
    def make(**overrides):
        return create_app({**settings, **overrides})
    return make


def eventually(check, timeout: float = 4.0, step: float = 0.1):
    """check()'s first truthy result within `timeout` seconds (else the last one)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(step)
