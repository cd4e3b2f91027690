"""Registered clients kept in each process between requests, for as long as none changed.

Authorize and token requests each need their client; reading the row every time cost
more than the rest of a token request. Each process keeps the clients it has loaded
(detached rows, read only), tagged with the *clients version*, a random value in the
store. Any change to `oidc_clients` made through the application (admin console, `idp`
commands, ORM flushes, `update()`/`delete()` statements run through a session) writes a
new version when it commits. The process that made the change reloads at once; the
others read the version at most once every VERSION_SECONDS (reading it on every request
was a store round trip per token request, a sixth of a refresh grant's time), so a
disabled client stops within a second everywhere. A change made behind the
application's back (SQL by hand) is seen within MAX_AGE seconds.
"""
from __future__ import annotations

import secrets
import time

from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import store
from ..models import OIDCClient

VERSION_KEY = "oidc-clients-version"
KEEP = 10 * 365 * 86400  # seconds: the version stays until a change replaces it
MAX_AGE = 30.0
VERSION_SECONDS = 1.0
_FLAG = "oidc_clients_changed"
_cache: dict[str, tuple[str, float, object]] = {}
_version: list = [None, 0.0]  # this process's last read: value, monotonic time


def current_version() -> str:
    """The clients version, read from the store at most once per VERSION_SECONDS (made
    when the store has none)."""
    version, read_at = _version
    if version is None or time.monotonic() - read_at >= VERSION_SECONDS:
        version = store().get(VERSION_KEY)
        if version is None:
            fresh = secrets.token_urlsafe(8)
            version = fresh if store().add(VERSION_KEY, fresh, KEEP) \
                else store().get(VERSION_KEY) or fresh
        _version[:] = [version, time.monotonic()]
    return version


def cached(client_id: str, load):
    """The client for `client_id` (or None), from this process's cache when current."""
    version = current_version()
    entry = _cache.get(client_id)
    if entry is not None and entry[0] == version and time.monotonic() - entry[1] < MAX_AGE:
        return entry[2]
    value = load(client_id)
    if len(_cache) > 10000:
        _cache.clear()
    _cache[client_id] = (version, time.monotonic(), value)
    return value


def bump() -> None:
    if has_app_context():
        store().set(VERSION_KEY, secrets.token_urlsafe(8), KEEP)
        _version[0] = None  # this process reads the new one at its next request


@event.listens_for(Session, "after_flush")
def _note_flushed(session, _context):
    if any(isinstance(obj, OIDCClient)
           for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_FLAG] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state):
    if (state.is_update or state.is_delete) \
            and getattr(state.statement.table, "name", None) == OIDCClient.__tablename__:
        state.session.info[_FLAG] = True


@event.listens_for(Session, "after_commit")
def _publish(session):
    if session.info.pop(_FLAG, False):
        bump()


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_FLAG, None)
