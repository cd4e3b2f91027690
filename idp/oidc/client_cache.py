"""Registered clients kept in each process between requests, for as long as none changed.

Authorize and token requests each need their client; reading the row every time cost
more than the rest of a token request. Each process keeps the clients it has loaded
(detached rows, read only), tagged with the *clients version*, a random value in the
store. Any change to `oidc_clients` made through the application (admin console, `idp`
commands, ORM flushes, `update()`/`delete()` statements run through a session) writes a
new version when it commits, so every process reloads at its next request: a disabled
client still stops at once. A change made behind the application's back (SQL by hand)
is seen within MAX_AGE seconds.
"""
from __future__ import annotations

import secrets
import time

from flask import g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import store
from ..models import OIDCClient

VERSION_KEY = "oidc-clients-version"
KEEP = 10 * 365 * 86400  # seconds: the version stays until a change replaces it
MAX_AGE = 30.0
_FLAG = "oidc_clients_changed"
_cache: dict[str, tuple[str, float, object]] = {}


def current_version() -> str:
    """The clients version, read once per request (made when the store has none)."""
    if "oidc_clients_version" not in g:
        version = store().get(VERSION_KEY)
        if version is None:
            fresh = secrets.token_urlsafe(8)
            version = fresh if store().add(VERSION_KEY, fresh, KEEP) \
                else store().get(VERSION_KEY) or fresh
        g.oidc_clients_version = version
    return g.oidc_clients_version


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
        g.pop("oidc_clients_version", None)


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
