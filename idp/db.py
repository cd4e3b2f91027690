"""SQLAlchemy 2.0 engine and session: one commit per request, rollback on error.

Views and services use `db.session`; services flush, never commit. The request's work is
committed in `after_request` (so a failed commit still turns into an error response) and
rolled back in teardown when anything raised.
"""
from __future__ import annotations

import select
import time

from flask import Flask, g
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from .database_url import sqlalchemy_url
from .request_lifecycle import every_request

# A pooled connection idle longer than this is pinged before use (one round trip): it may
# have been cut without a word (a firewall, a failover). One used more recently is pinged
# only when the server has written to it since (see _checked_on_checkout).
PING_AFTER_IDLE_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5  # libpq's connect_timeout, unless the URL sets its own
_CHECKED_IN = "idp.checked_in"


class Database:
    def __init__(self):
        self.engine: Engine | None = None
        self._factory = sessionmaker(expire_on_commit=False)
        self.session: scoped_session[Session] = scoped_session(self._factory)
        self._alone: tuple[Engine | None, Engine | None] = (None, None)  # see alone_engine

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        self._factory.configure(bind=self.engine)
        app.extensions["db"] = self

        @app.after_request
        @every_request
        def commit(response):
            if not self.session.registry.has() or not self.session().in_transaction():
                return response  # the request never used the session: nothing to end
            if response.status_code < 500 and not g.get("db_rollback"):
                self.session.commit()
            else:
                self.session.rollback()
            return response

        @app.teardown_appcontext
        def remove(exc):
            if exc is not None:
                self.session.rollback()
            self.session.remove()

    def alone_engine(self) -> Engine:
        """The engine of `alone` (SQLite: `engine`). PostgreSQL: one beside `engine`
        (made at first use, and again when `engine` is replaced): the same database,
        connections of its own, always in autocommit, and planning each statement on
        each run. psycopg prepares a statement after a few runs, and the server may then
        keep a generic plan made while a table was small: a sequential scan of
        refresh_tokens was kept as the table grew. The request's statements (an account
        by id, the standing of a sign-in) keep PostgreSQL's plan cache: planning them on
        each run cost an authorization about 0.5 ms of the database's CPU
        (bench/README.md, "Two pools")."""
        if self.engine.dialect.name != "postgresql":
            return self.engine
        engine, alone = self._alone
        if engine is not self.engine:
            if alone is not None:
                alone.dispose()  # the twin of an engine replaced since: its pool goes too
            url = self.engine.url.render_as_string(hide_password=False)
            alone = make_engine(url, {"plan_cache_mode": "force_custom_plan"},
                                autocommit=True)
            self._alone = (self.engine, alone)
        return alone

    def alone(self, statement, params: dict):
        """Run ONE statement in a transaction of its own, committed at once, outside the
        request's; its first row (or None). For the token endpoint's statements that are
        atomic by themselves (oidc/refresh_tokens.py, grants.py). On PostgreSQL in
        autocommit: no BEGIN and COMMIT round trips, a third of a token request's
        database time. One statement per call, by construction: what needs two runs in
        the request's transaction, or in `engine.begin()`."""
        engine = self.alone_engine()
        with engine.connect() if engine is not self.engine else engine.begin() as conn:
            result = conn.execute(statement, params)
            return result.first() if result.returns_rows else None


def make_engine(url: str, settings: dict[str, str] | None = None,
                autocommit: bool = False) -> Engine:
    """An engine for `url`; SQLite gets WAL and foreign keys so it behaves like PostgreSQL.
    `settings`: PostgreSQL settings for its connections (trusted names and values; SQLite
    ignores them). `autocommit` (PostgreSQL): every statement commits by itself."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    url = sqlalchemy_url(url)  # psycopg 3; several hosts as libpq reads them
    # No pool_pre_ping (a SELECT 1 per checkout, on the token endpoint's hot path): a
    # checkout event checks instead what a restart leaves behind (_checked_on_checkout).
    # A connection lost mid-request fails that request only (503, idp/errors.py), and
    # SQLAlchemy then discards every connection opened before it.
    connect_args = {} if "connect_timeout=" in url else {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800,
                           connect_args=connect_args,
                           **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}))
    _checked_on_checkout(engine)
    if settings:
        # SET on each new connection (libpq "options" would replace the URL's own).
        @event.listens_for(engine, "connect")
        def _settings(dbapi_conn, _record):
            with dbapi_conn.cursor() as cur:
                for name, value in settings.items():
                    cur.execute(f"SET {name} = {value}")
            dbapi_conn.commit()

    return engine


def _checked_on_checkout(engine: Engine) -> None:
    """Never hand out a pooled connection a PostgreSQL restart has closed, without a round
    trip on the hot path. A server that stops (restart, crash, pg_terminate_backend)
    writes its goodbye to every client connection, or the kernel closes the socket: an
    idle connection whose socket is readable is dead or has news, and is pinged. A
    connection idle for more than PING_AFTER_IDLE_SECONDS is pinged too (one cut
    silently shows nothing). A failed ping makes the pool replace that connection with a
    new one, and the request never sees it. Busy connections (checked in a moment ago,
    nothing to read) cost one poll(2) call, no round trip."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_conn, record):
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, proxy):
        since = record.info.get(_CHECKED_IN)
        if since is None:  # a new connection
            return
        if time.monotonic() - since < PING_AFTER_IDLE_SECONDS and not _has_input(dbapi_conn):
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as error:
            raise exc.DisconnectionError(f"pooled connection is dead: {error}") from error


def _has_input(dbapi_conn) -> bool:
    """True when the server wrote to this idle connection (or closed it)."""
    try:
        poller = select.poll()
        poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except Exception:
        return True  # no socket to look at: let the ping decide


def unreachable(error: BaseException) -> bool:
    """True when `error` says the database cannot be reached right now (down,
    restarting, a connection lost, no connection free in the pool): an outage, answered
    503. False for a statement the database refused."""
    if isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)):
        return True
    return isinstance(error, exc.DBAPIError) and bool(error.connection_invalidated)


db = Database()
