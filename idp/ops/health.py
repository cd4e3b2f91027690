"""Readiness: the database answers and its schema is at the expected Alembic heads, the
store answers; each within READY_TIMEOUT_SECONDS (checked side by side in threads, so a
server that does not answer costs the timeout once, not a request's worth of retries)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from ..db import db

READY_TIMEOUT_SECONDS = 2.0
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")
_expected_heads: set[str] | None = None
_known: set[str] = set()


def expected_heads() -> set[str]:
    """The heads of the migrations shipped with this code (read once)."""
    _load_script()
    return _expected_heads


def _load_script() -> None:
    global _expected_heads, _known
    if _expected_heads is None:
        from ..migrations import alembic_config

        script = ScriptDirectory.from_config(alembic_config(""))
        _known = {rev.revision for rev in script.walk_revisions()}
        _expected_heads = set(script.get_heads())


def schema_problem(connection) -> str | None:
    """None when the database has every migration this code ships, else a one-line reason.

    A revision this code does not know means a newer release upgraded the database: this
    node stays ready, since migrations only add (a rolling upgrade runs `idp db upgrade`
    first, then restarts the nodes one by one, the old ones serving meanwhile)."""
    _load_script()
    current = set(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return "not migrated: run `idp db upgrade`"
    missing = _expected_heads - current
    if missing and current <= _known:
        return f"schema not upgraded ({', '.join(sorted(missing))} missing): run `idp db upgrade`"
    return None


def _check_database(engine) -> str | None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        return schema_problem(connection)


def _check_store(store) -> str | None:
    store.ping()
    return None


def readiness(app, timeout: float = READY_TIMEOUT_SECONDS) -> dict[str, str]:
    """{"database": reason, "store": reason} for what is not ready; {} when all is."""
    checks = {"database": _pool.submit(_check_database, db.engine),
              "store": _pool.submit(_check_store, app.extensions["idp"]["store"])}
    wait(checks.values(), timeout=timeout)
    problems = {}
    for what, future in checks.items():
        if not future.done():
            problems[what] = f"no answer within {timeout:g} s"
            continue
        try:
            reason = future.result()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            reason = f"unreachable ({type(exc).__name__}: {_first_line(exc)})"
        if reason:
            problems[what] = reason
    return problems


def _first_line(exc: BaseException) -> str:
    message = str(exc).strip()
    return message.splitlines()[0][:200] if message else "no detail"
