"""Signing keys: files under keys/, a keyring index, rotation with a grace period.

`keys/keyring.json` lists every key: kid, alg, file, created, retired (a timestamp or null).
The newest unretired key of each algorithm signs; retired keys stay in the JWKS for
KEY_GRACE_DAYS so tokens signed just before a rotation still verify, then are pruned.

`KeyRing` is built once per process and reloads only when keyring.json changes on disk
(checked at most once a second), so `idp keys rotate` takes effect in running servers
without any per-request key loading.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey, KeySet, RSAKey

ALGORITHMS = ("RS256", "ES256")
INDEX = "keyring.json"


@dataclass(frozen=True)
class KeyEntry:
    kid: str
    alg: str
    file: str
    created: float
    retired: float | None = None


def _new_private_pem(alg: str) -> bytes:
    if alg == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def read_index(keys_dir: Path) -> list[KeyEntry]:
    path = keys_dir / INDEX
    if not path.exists():
        return []
    return [KeyEntry(**e) for e in json.loads(path.read_text())]


def _write_index(keys_dir: Path, entries: list[KeyEntry]) -> None:
    tmp = keys_dir / (INDEX + ".tmp")
    tmp.write_text(json.dumps([e.__dict__ for e in entries], indent=2))
    os.replace(tmp, keys_dir / INDEX)  # atomic: a running server never reads half a file


def _add_key(keys_dir: Path, alg: str) -> KeyEntry:
    kid = f"{alg.lower()}-{time.strftime('%Y%m%d')}-{secrets.token_hex(4)}"
    path = keys_dir / f"{kid}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(_new_private_pem(alg))
    return KeyEntry(kid=kid, alg=alg, file=path.name, created=time.time())


def generate(keys_dir: str | Path) -> list[KeyEntry]:
    """Create a signing key for each algorithm that has none active. Returns new keys."""
    keys_dir = Path(keys_dir)
    keys_dir.mkdir(parents=True, exist_ok=True)
    entries = read_index(keys_dir)
    created = [_add_key(keys_dir, alg) for alg in ALGORITHMS
               if not any(e.alg == alg and e.retired is None for e in entries)]
    if created:
        _write_index(keys_dir, entries + created)
    return created


def rotate(keys_dir: str | Path, grace_days: float) -> list[KeyEntry]:
    """Retire the active keys, create new ones, prune keys retired beyond the grace."""
    keys_dir = Path(keys_dir)
    now = time.time()
    kept = []
    for entry in read_index(keys_dir):
        if entry.retired is None:
            entry = KeyEntry(**{**entry.__dict__, "retired": now})
        if now - entry.retired > grace_days * 86400:
            (keys_dir / entry.file).unlink(missing_ok=True)
            continue
        kept.append(entry)
    new = [_add_key(keys_dir, alg) for alg in ALGORITHMS]
    _write_index(keys_dir, kept + new)
    return new


class KeyRing:
    """The process's view of keys/; signing keys and the public JWKS."""

    def __init__(self, keys_dir: str | Path, grace_days: float):
        self.keys_dir = Path(keys_dir)
        self.grace = grace_days * 86400
        self._mtime = None
        self._checked = 0.0
        self._load()
        if not self._signing:
            raise RuntimeError(f"no signing keys in {self.keys_dir}: run `idp keys generate`")

    def _load(self) -> None:
        index = self.keys_dir / INDEX
        self._mtime = index.stat().st_mtime if index.exists() else None
        now = time.time()
        self._signing: dict[str, tuple[str, object]] = {}
        public = []
        for entry in read_index(self.keys_dir):
            if entry.retired is not None and now - entry.retired > self.grace:
                continue
            cls = RSAKey if entry.alg == "RS256" else ECKey
            key = cls.import_key((self.keys_dir / entry.file).read_bytes(),
                                 {"kid": entry.kid, "alg": entry.alg, "use": "sig"})
            if entry.retired is None:
                self._signing[entry.alg] = (entry.kid, key)
            public.append(key.as_dict(private=False))
        self._jwks = {"keys": public}
        self._public_set = KeySet.import_key_set(self._jwks)

    def _refresh(self) -> None:
        now = time.time()
        if now - self._checked < 1.0:
            return
        self._checked = now
        index = self.keys_dir / INDEX
        mtime = index.stat().st_mtime if index.exists() else None
        if mtime != self._mtime:
            self._load()

    def signing_key(self, alg: str = "RS256"):
        """(kid, joserfc key) of the active key for `alg`."""
        self._refresh()
        return self._signing[alg]

    def jwks(self) -> dict:
        self._refresh()
        return self._jwks

    def public_key_set(self) -> KeySet:
        self._refresh()
        return self._public_set

    def algorithms(self) -> list[str]:
        self._refresh()
        return sorted(self._signing)
