"""The signing keys' version in the store: how every process learns that keys changed.

A random value under VERSION_KEY, replaced after each committed change to
`signing_keys` made through a session (the services call `changed(session)`). Each
process reads it at most once every VERSION_SECONDS (idp/keys/ring.py), the same pattern
as the OIDC clients' cache (idp/oidc/client_cache.py), and reloads its keys when it
differs. The process that made the change forgets its keys at once.
"""
from __future__ import annotations

import secrets

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

VERSION_KEY = "signing-keys-version"
KEEP = 10 * 365 * 86400  # seconds: the version stays until a change replaces it
_FLAG = "signing_keys_changed"


def read_version(store) -> str:
    """The current version (made when the store has none, e.g. after a flush)."""
    version = store.get(VERSION_KEY)
    if version is None:
        fresh = secrets.token_urlsafe(8)
        version = fresh if store.add(VERSION_KEY, fresh, KEEP) else store.get(VERSION_KEY) or fresh
    return version


def bump(store) -> None:
    store.set(VERSION_KEY, secrets.token_urlsafe(8), KEEP)


def changed(session: Session) -> None:
    """Note that this session changed the keys: the version is bumped once it commits."""
    session.info[_FLAG] = True


@event.listens_for(Session, "after_commit")
def _publish(session):
    if session.info.pop(_FLAG, False) and has_app_context():
        extensions = current_app.extensions["idp"]
        extensions["keyring"].forget()  # this process: at once
        bump(extensions["store"])       # the others: within VERSION_SECONDS


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_FLAG, None)
