"""Embedded store: one SQLite file shared by every process of this machine.

SQLite serialises writers with a file lock, so counters and one-time takes stay atomic
across the processes `make run` starts (the IdP, gunicorn workers, the CLI). It is the
zero-setup default; production sets IDP_REDIS_URL.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from .base import Store, StoreUnavailable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_expires_at ON entries (expires_at);
CREATE TABLE IF NOT EXISTS queue_members (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    member TEXT NOT NULL,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS queue_members_member ON queue_members (queue, member);
"""

_MISSING = object()


class EmbeddedStore(Store):
    def __init__(self, path: str):
        self._path = str(path)
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        # One connection per thread: sqlite3 connections are not shared across threads.
        self._local = threading.local()
        conn = self._conn()
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    class _Tx:
        def __init__(self, conn):
            self.conn = conn

        def __enter__(self):
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, exc, tb):
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")

    def _tx(self):
        try:
            return self._Tx(self._conn())
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    def _live(self, db, key: str):
        row = db.execute("SELECT value, expires_at FROM entries WHERE key = ?", (key,)).fetchone()
        if row is None or row[1] <= time.time():
            return None
        return row

    def get(self, key: str) -> Any | None:
        row = self._live(self._conn(), key)
        return None if row is None else json.loads(row[0])

    def set(self, key: str, value: Any, ttl: int) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                       (key, json.dumps(value), time.time() + max(1, ttl)))

    def set_many(self, entries: dict[str, tuple[Any, int]]) -> None:
        now = time.time()
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", [
                (key, json.dumps(value), now + max(1, ttl))
                for key, (value, ttl) in entries.items()])

    def add(self, key: str, value: Any, ttl: int) -> bool:
        with self._tx() as db:
            if self._live(db, key) is not None:
                return False
            db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                       (key, json.dumps(value), time.time() + max(1, ttl)))
            return True

    def take(self, key: str) -> Any | None:
        with self._tx() as db:
            row = self._live(db, key)
            db.execute("DELETE FROM entries WHERE key = ?", (key,))
            return None if row is None else json.loads(row[0])

    def take_matching(self, key: str, expect: dict, used_key: str, used_field: str,
                      used_ttl: int) -> Any | None:
        with self._tx() as db:
            row = self._live(db, key)
            value = None if row is None else json.loads(row[0])
            if not isinstance(value, dict) \
                    or any(value.get(k, _MISSING) != v for k, v in expect.items()):
                return None
            db.execute("DELETE FROM entries WHERE key = ?", (key,))
            db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                       (used_key, json.dumps(value.get(used_field)),
                        time.time() + max(1, used_ttl)))
            return value

    def delete(self, *keys: str) -> None:
        with self._tx() as db:
            db.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k in keys])

    def incr(self, key: str, ttl: int) -> int:
        with self._tx() as db:
            row = self._live(db, key)
            if row is None:
                value, expires_at = 1, time.time() + max(1, ttl)
            else:
                value, expires_at = json.loads(row[0]) + 1, row[1]
            db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                       (key, json.dumps(value), expires_at))
            # Expired rows are swept now and then by the writers themselves.
            if value == 1:
                db.execute("DELETE FROM entries WHERE expires_at <= ?", (time.time(),))
            return value

    def ttl(self, key: str) -> int:
        row = self._live(self._conn(), key)
        return 0 if row is None else max(0, int(row[1] - time.time()))

    # Fair queues: the row number (AUTOINCREMENT, never reused) is the arrival order.
    def _queue_prune(self, db, queue: str) -> int:
        db.execute("DELETE FROM queue_members WHERE queue = ? AND expires_at <= ?",
                   (queue, time.time()))
        return db.execute("SELECT count(*) FROM queue_members WHERE queue = ?",
                          (queue,)).fetchone()[0]

    def queue_enter(self, queue: str, member: str, owner: str, lease: int,
                    owner_share: float, owner_min: int,
                    most: int = 0) -> tuple[int | None, int]:
        with self._tx() as db:
            length = self._queue_prune(db, queue)
            row = db.execute("SELECT seq FROM queue_members WHERE queue = ? AND member = ?",
                             (queue, member)).fetchone()
            expires_at = time.time() + max(1, int(lease))
            if row is None:
                held = db.execute("SELECT count(*) FROM queue_members WHERE queue = ? "
                                  "AND owner = ?", (queue, owner)).fetchone()[0]
                if held >= max(owner_min, int(owner_share * (length + 1))):
                    return None, length
                if most and length >= most:
                    return None, length
                seq = db.execute("INSERT INTO queue_members (queue, member, owner, expires_at)"
                                 " VALUES (?, ?, ?, ?)",
                                 (queue, member, owner, expires_at)).lastrowid
                length += 1
            else:
                seq = row[0]
                db.execute("UPDATE queue_members SET expires_at = ? WHERE seq = ?",
                           (expires_at, seq))
            rank = db.execute("SELECT count(*) FROM queue_members WHERE queue = ? AND seq < ?",
                              (queue, seq)).fetchone()[0]
            return rank, length

    def queue_leave(self, queue: str, member: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM queue_members WHERE queue = ? AND member = ?",
                       (queue, member))

    def queue_length(self, queue: str) -> int:
        with self._tx() as db:
            return self._queue_prune(db, queue)

    def ping(self) -> None:
        try:
            self._conn().execute("SELECT 1")
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    def flush(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM entries")
            db.execute("DELETE FROM queue_members")
