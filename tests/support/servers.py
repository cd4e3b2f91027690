"""Private PostgreSQL, Redis and nginx servers that a test may stop, kill and restart.

The machine's shared PostgreSQL (5432) and Redis (6379) serve everyone's test runs: never
stop them. A test that needs an outage starts its own server here instead:

- `PrivateRedis()`: `redis-server --port <free> --save ''` (nothing on disk), as a
  context manager; `.url`, `.stop()` (SIGKILL: an outage, not a shutdown), `.start()`
  again on the same port (a restart: empty, like a Redis without persistence).
  Fixture `private_redis`: one per test, killed at its end.
- `PrivatePostgres()`: a cluster made by initdb in a temporary directory (as the
  `postgres` user when we run as root: initdb refuses root), trust authentication,
  127.0.0.1 on a free port, fsync off. `.url` (database `postgres`), `.stop()`,
  `.start()`, `.restart()` (pg_ctl -m fast: every client connection is terminated).
  Fixture `private_postgres`: one per test module. Needs Debian's binaries
  (/usr/lib/postgresql/<version>/bin); the fixture skips with the reason otherwise.
  Fixture `private_postgres_app`: the IdP on that server, built as in production.
(nginx in front of the IdP: scripts/reverse_proxy.Nginx, the benches' and `make cluster`'s.)
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from .served import free_port


def _wait_for_port(port: int, process: subprocess.Popen | None, what: str,
                   timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, self.process, "redis-server")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def postgres_binaries() -> Path | None:
    """Debian's PostgreSQL server binaries (the newest version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    def __init__(self, binaries: Path):
        self.bin = binaries
        self.dir = Path(tempfile.mkdtemp(prefix="idp-private-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:  # initdb and the server refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)

    def _pg_ctl(self, action: str) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.dir / "log"), "-m", "fast", "-w", action)

    def start(self) -> "PrivatePostgres":
        self._pg_ctl("start")
        return self

    def stop(self) -> None:
        self._pg_ctl("stop")

    def restart(self) -> None:
        self._pg_ctl("restart")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_redis():
    """A Redis of this test's own (see PrivateRedis), killed at its end."""
    with PrivateRedis() as server:
        yield server


@pytest.fixture(scope="module")
def private_postgres():
    """A PostgreSQL server of this module's own (see PrivatePostgres)."""
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin) to start")
    server = PrivatePostgres(binaries).start()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def private_postgres_app(app, settings, private_postgres):
    """The IdP on the module's private PostgreSQL (schema migrated, keys generated), as in
    production: PROPAGATE_EXCEPTIONS off, so an exception after the view (the request's
    commit) meets the error handlers as under gunicorn. `db` is process-wide: meanwhile
    `make` and `clean_state` write there too; the suite's engine is given back after."""
    from idp import create_app
    from idp.db import db
    from idp.keys import keyset
    from idp.keys.sealing import key_encryption
    from idp.migrations import upgrade

    upgrade(private_postgres.url)
    suite_engine = db.engine
    node = create_app({**settings, "DATABASE_URL": private_postgres.url,
                       "PROPAGATE_EXCEPTIONS": False})
    with node.app_context():
        keyset.generate(db.session, key_encryption(node.config))
        db.session.commit()
    yield node
    db.engine.dispose()
    db.engine = suite_engine
    db._factory.configure(bind=suite_engine)
