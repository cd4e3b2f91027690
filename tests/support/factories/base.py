"""The base of every factory: factory_boy's declarations and traits, rows made through
the app's own services inside an app context, committed, and handed back as plain values.

Why not factory_boy's SQLAlchemyModelFactory: our rows are made by services that do more
than an INSERT (create_account hashes the password and checks the academy,
register_client draws and hashes a secret, register_sp reads metadata, publish_charter
hashes the text), the session is Flask's scoped `db.session`, which only exists inside
an app context, and tests use what a factory returns outside any context (a test client
request pushes its own). So each factory's `_create` runs the service in an app context,
commits, and returns a small dataclass of what tests need (ids, identifiers, the plain
password or secret), never an ORM instance that would be detached a line later.
"""
from __future__ import annotations

import itertools

import factory

from idp.db import db

_app = None
# One counter for every factory, so identifiers and names never collide across them.
SEQUENCE = itertools.count(1)


def bind(app) -> None:
    """The app the factories write through (the session-wide test app)."""
    global _app
    _app = app


def bound_app():
    assert _app is not None, "factories are not bound: the `make` plugin binds them"
    return _app


def next_number() -> int:
    return next(SEQUENCE)


class AppFactory(factory.Factory):
    """`_create` calls `cls.make_row(**values)` in an app context, commits, and returns
    `cls.made(row, values)` read while the row is still attached."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with bound_app().app_context():
            row = cls.make_row(**kwargs)
            db.session.commit()
            return cls.made(row, kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError(f"{cls.__name__} makes committed rows: call it, not .build()")

    @classmethod
    def make_row(cls, **values):
        raise NotImplementedError

    @classmethod
    def made(cls, row, values):
        raise NotImplementedError
