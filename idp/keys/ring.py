"""Each process's view of the signing keys: loaded from the database, kept between
requests, reloaded when the keys' version in the store changes.

The version is read at most once every VERSION_SECONDS (not a store round trip per
request); keys are reloaded when it differs, when the store cannot be read (the database
is the source of truth), and at least every MAX_AGE seconds (a change made behind the
application's back, an expired grace period). A load opens every published row (so a
row that was altered, or a wrong key-encryption key, is found at once) and keeps the
parsed keys of the rows it already knew.

What signs is decided at the moment of signing, among the keys this snapshot holds: the
newest whose `signs_from` has come and whose `retired_at` has not. A rotation publishes
its new key SWITCH_SECONDS before it signs, so every node publishes a key before any node
signs with it, and a node never signs with a key outside the database's published set.
When keys cannot be loaded (none yet, no or wrong key-encryption key, an altered row,
the database unreachable) every use raises KeysUnavailable: 503, never a stale set.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..db import db
from ..models import SigningKey, utcnow
from ..store import StoreUnavailable
from .errors import KeysUnavailable, NoKeysYet
from .sealing import key_encryption, unseal_all
from .version import read_version

log = logging.getLogger(__name__)
VERSION_SECONDS = 1.0
MAX_AGE = 30.0


@dataclass(frozen=True)
class LoadedKey:
    """A published key as this process holds it."""
    kid: str
    purpose: str
    alg: str
    state: str
    public_pem: str
    created_at: datetime
    signs_from: datetime | None
    retired_at: datetime | None
    private_pem: bytes = field(repr=False)

    def signs_at(self, now: datetime) -> bool:
        return (self.signs_from is not None and self.signs_from <= now
                and (self.retired_at is None or now < self.retired_at))


class Snapshot:
    """The published keys at one load, and what is derived from them (built once)."""

    def __init__(self, keys: list[LoadedKey], version: str | None):
        self.keys = sorted(keys, key=lambda k: (k.created_at, k.kid))
        self.version = version
        self.loaded = time.monotonic()
        self._jwk: dict[str, object] = {}
        oidc = [k for k in self.keys if k.purpose == "oidc"]
        for key in oidc:
            cls = RSAKey if key.alg == "RS256" else ECKey
            self._jwk[key.kid] = _parsed(cls, key)
        self.jwks = {"keys": [self._jwk[k.kid].as_dict(private=False) for k in oidc]}
        self.public_set = KeySet.import_key_set(self.jwks)
        self.saml_certificates = tuple(k.public_pem for k in self.keys if k.purpose == "saml")

    def signer(self, purpose: str, alg: str, now: datetime) -> LoadedKey | None:
        candidates = [k for k in self.keys
                      if k.purpose == purpose and k.alg == alg and k.signs_at(now)]
        return max(candidates, key=lambda k: k.signs_from, default=None)

    def jwk(self, kid: str):
        return self._jwk[kid]


_PARSED: dict[tuple, object] = {}  # (kid, alg, private PEM) -> joserfc key


def _parsed(cls, key: LoadedKey):
    """The joserfc key with its private part; parsed once per process and key."""
    cache_key = (key.kid, key.alg, key.private_pem)
    found = _PARSED.get(cache_key)
    if found is None:
        if len(_PARSED) > 64:
            _PARSED.clear()
        found = _PARSED[cache_key] = cls.import_key(
            key.private_pem, {"kid": key.kid, "alg": key.alg, "use": "sig"})
    return found


def _again(failure: KeysUnavailable) -> KeysUnavailable:
    """A fresh exception with the same reason: raising one object again and again would
    grow its traceback with every request while the failure lasts."""
    return type(failure)(str(failure))


class KeyRing:
    """One per app (idp.extensions.keyring()): signing keys and what they publish."""

    def __init__(self, settings: dict, store):
        self.settings = settings
        self.store = store
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._failure: tuple[float, KeysUnavailable] | None = None
        self._checked = 0.0

    # -- what the protocols use --------------------------------------------------------
    def signing_key(self, alg: str = "RS256"):
        """(kid, joserfc key) of the OIDC key that signs now with `alg`."""
        snapshot = self.current()
        key = snapshot.signer("oidc", alg, utcnow())
        if key is None:
            raise NoKeysYet(f"no OIDC {alg} signing key: run `idp keys generate`")
        return key.kid, snapshot.jwk(key.kid)

    def jwks(self) -> dict:
        return self.current().jwks

    def public_key_set(self) -> KeySet:
        return self.current().public_set

    def algorithms(self) -> list[str]:
        snapshot, now = self.current(), utcnow()
        return sorted({k.alg for k in snapshot.keys
                       if k.purpose == "oidc" and k.signs_at(now)})

    def saml_signer(self) -> LoadedKey:
        """The SAML key that signs now (its private PEM and certificate)."""
        key = self.current().signer("saml", "RS256", utcnow())
        if key is None:
            raise NoKeysYet("no SAML signing key: run `idp keys generate`")
        return key

    def saml_certificates(self) -> tuple[str, ...]:
        """Every published SAML certificate (PEM), oldest first: active, next, retired."""
        return self.current().saml_certificates

    # -- loading -----------------------------------------------------------------------
    def forget(self) -> None:
        """Reload at the next use (this process changed the keys)."""
        with self._lock:
            self._snapshot, self._failure, self._checked = None, None, 0.0

    def current(self) -> Snapshot:
        now = time.monotonic()
        snapshot, failure = self._snapshot, self._failure
        if now - self._checked < VERSION_SECONDS:
            if snapshot is not None:
                return snapshot
            if failure is not None:
                raise _again(failure[1])
        with self._lock:
            if time.monotonic() - self._checked < VERSION_SECONDS:
                if self._snapshot is not None:
                    return self._snapshot
                if self._failure is not None:
                    raise _again(self._failure[1])
            self._checked = time.monotonic()
            try:
                version = read_version(self.store)
            except StoreUnavailable:
                version = None  # unknown: read the database, the source of truth
            snapshot = self._snapshot
            if (snapshot is None or version is None or version != snapshot.version
                    or time.monotonic() - snapshot.loaded > MAX_AGE):
                try:
                    self._snapshot, self._failure = self._load(version), None
                except KeysUnavailable as exc:
                    self._snapshot, self._failure = None, (time.monotonic(), exc)
                    log.error("signing keys unavailable: %s", exc)
                    raise
            return self._snapshot

    def _load(self, version: str | None) -> Snapshot:
        kek = key_encryption(self.settings)
        try:
            with Session(db.engine) as session:
                rows = session.scalars(select(SigningKey)).all()
        except SQLAlchemyError as exc:
            raise KeysUnavailable(f"signing keys cannot be read from the database "
                                  f"({type(exc).__name__}; `idp db upgrade`?)") from None
        now, grace = utcnow(), timedelta(days=float(self.settings["KEY_GRACE_DAYS"]))
        published = [row for row in rows
                     if row.retired_at is None or row.retired_at + grace > now]
        if not published:
            raise NoKeysYet("no signing keys in the database yet: run `idp keys generate`")
        keys = [LoadedKey(kid=row.kid, purpose=row.purpose, alg=row.alg, state=row.state,
                          public_pem=row.public_pem, created_at=row.created_at,
                          signs_from=row.signs_from, retired_at=row.retired_at,
                          private_pem=private)
                for row, private in zip(published, unseal_all(kek, published))]
        return Snapshot(keys, version)
