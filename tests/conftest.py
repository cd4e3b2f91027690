"""Shared fixtures: a real database (SQLite, or PostgreSQL with IDP_TEST_DATABASE_URL),
a real store (the embedded SQLite file, or Redis with IDP_TEST_REDIS_URL), real keys,
the app and a browser-like client with CSRF on.

Each test starts from empty tables and an empty store. The other shared fixtures live in
plugin modules under tests/support/, listed in `pytest_plugins` below, so a test module
asks for a fixture by name and imports nothing for it.
"""
from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import text

from idp import create_app
from idp.db import db, make_engine
from idp.migrations import upgrade
from idp.keys import keyset
from idp.keys.sealing import key_encryption, new_key_encryption_key
from idp.models import Base, SigningKey
from idp.secret_settings import new_values as new_secret_values

from .support.browser import Browser

pytest_plugins = [
    "tests.support.factories",    # make, factories_bound (and the per-model factories)
    "tests.support.smtp",         # smtp_server, use_smtp
    "tests.support.sms_gateway",  # sms_gateway, use_sms_gateway
    "tests.support.saml",         # saml_keys_ready (autouse), idp_metadata, new_sp
    "tests.support.served",       # served_idp (one gunicorn IdP per session)
    "tests.support.ops_served",   # ops_idp, ops_servers_pool (idp serve as production runs it)
    "tests.support.admin",        # operator (a browser signed in on the staff console)
    "tests.support.letters",      # letters (a J3 family and its school letters)
    "tests.support.keys",         # keys_restored, node (a second app on the same database)
    "tests.support.servers",      # private_redis, private_postgres (to stop and restart)
    "tests.support.sql",          # statements (the SQL statements run while on)
]


def _reset_database(url: str) -> None:
    """Drop everything and build the schema through the migrations (they are tested too)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    upgrade(url)


def _private_schema(url: str):
    """On PostgreSQL, each test run gets its own schema (search_path in the URL), so two
    runs on one database never drop each other's tables. Returns (url, drop callback)."""
    if not url.startswith("postgresql"):
        return url, lambda: None
    schema = f"test_{secrets.token_hex(6)}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()

    def drop():
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()

    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}", drop


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    base = tmp_path_factory.mktemp("idp")
    database_url, drop_schema = _private_schema(
        os.environ.get("IDP_TEST_DATABASE_URL") or f"sqlite:///{base / 'idp.sqlite3'}")
    _reset_database(database_url)
    overrides = {
        "ISSUER": "http://localhost",
        **new_secret_values(),  # SECRET_KEY, TOTP_SEALING_KEYS, SMS_CODE_KEY, PAIRWISE_SALT
        "DATABASE_URL": database_url,
        "KEY_ENCRYPTION_KEY": new_key_encryption_key(),
        "STORE_PATH": str(base / "store.sqlite3"),
        # Where `idp worker --once` run by a test writes its metrics (not the repo's var/).
        "METRICS_DIR": str(base / "metrics"),
        "STORE_PREFIX": f"idp-test-{secrets.token_hex(4)}:",
        # Cheap hashes keep the suite fast; the production cost is in config defaults.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8192,
        "TESTING": True,
        "DEMO_CLIENTS_FILE": str(base / "demo_clients.json"),
        # Every test browser is a new device: the new-device notice (issue 17) would add
        # a message to each sign-in. Its own tests (test_new_device_notice) turn it on.
        "NEW_DEVICE_NOTICE": False,
    }
    if os.environ.get("IDP_TEST_REDIS_URL"):
        overrides["REDIS_URL"] = os.environ["IDP_TEST_REDIS_URL"]
    yield overrides
    drop_schema()


@pytest.fixture(scope="session")
def app(settings):
    """The app, with its signing keys in the database (as `idp keys generate`)."""
    app = create_app(settings)
    with app.app_context():
        keyset.generate(db.session, key_encryption(app.config))
        db.session.commit()
    return app


@pytest.fixture(autouse=True)
def clean_state(app):
    """Empty tables and store before each test; the signing keys stay (a test that
    changes them asks for `keys_restored`)."""
    with app.app_context():
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                if table is not SigningKey.__table__:
                    conn.execute(table.delete())
        app.extensions["idp"]["store"].flush()
    yield
    db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def browser(app):
    return Browser(app.test_client())


@pytest.fixture
def config(app):
    """Change settings for one test: config(KEY=value, ...); restored afterwards."""
    saved = {}

    def set_(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config[key])
        app.config.update(values)

    yield set_
    app.config.update(saved)
