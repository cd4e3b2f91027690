"""Sealing private keys with the key-encryption key (KEK) from the environment.

`IDP_KEY_ENCRYPTION_KEY` holds one or more Fernet keys separated by commas (the same on
every node): the first seals, all open (cryptography's MultiFernet: AES-128-CBC with
HMAC-SHA256, authenticated), so the KEK itself rotates without downtime: put the new key
first on every node, run `idp keys reencrypt`, then drop the old one.

What is sealed is a small JSON document naming the key (kid, purpose) and the SHA-256
of the public part the row publishes, next to the private PEM: a row whose private part
was copied from another row, or whose public part was swapped, does not open.
"""
from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..config import fernet_key_problem, key_encryption_keys
from .errors import KeyEncryptionError
from .material import fingerprint

NO_KEK = ("no key-encryption key: set IDP_KEY_ENCRYPTION_KEY (the same on every node; "
          "`idp keys encryption-key` prints a new one)")


def new_key_encryption_key() -> str:
    return Fernet.generate_key().decode()


def key_encryption(settings: dict) -> MultiFernet:
    """The MultiFernet of the configured KEKs (the first seals)."""
    keys = key_encryption_keys(settings)
    if not keys:
        raise KeyEncryptionError(NO_KEK)
    for position, key in enumerate(keys, 1):
        problem = fernet_key_problem(key)
        if problem:
            raise KeyEncryptionError(f"IDP_KEY_ENCRYPTION_KEY entry {position} is not a "
                                     f"Fernet key ({problem})")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def seal(kek: MultiFernet, *, kid: str, purpose: str, private_pem: bytes,
         public: str) -> str:
    document = {"kid": kid, "purpose": purpose, "public_sha256": fingerprint(public),
                "private": private_pem.decode("ascii")}
    return kek.encrypt(json.dumps(document).encode()).decode("ascii")


def unseal(kek: MultiFernet, row) -> bytes:
    """The private PEM of a SigningKey row, after checking it belongs to that row."""
    try:
        document = json.loads(kek.decrypt(row.sealed_private.encode("ascii")))
    except (InvalidToken, UnicodeEncodeError, ValueError):
        raise KeyEncryptionError(
            f"signing key {row.kid} does not decrypt: the row was altered or sealed with "
            "another key-encryption key") from None
    if not isinstance(document, dict) or document.get("kid") != row.kid \
            or document.get("purpose") != row.purpose:
        raise KeyEncryptionError(f"signing key {row.kid}: the sealed part belongs to "
                                 "another key (row altered)")
    if document.get("public_sha256") != fingerprint(row.public_pem):
        raise KeyEncryptionError(f"signing key {row.kid}: the public part does not match "
                                 "the sealed private key (row altered)")
    return document["private"].encode("ascii")


def unseal_all(kek: MultiFernet, rows) -> list[bytes]:
    """The private PEMs of `rows`, in order. None opening says the KEK is wrong; some
    opening says the others were altered (or sealed under another KEK)."""
    opened, failures = [], []
    for row in rows:
        try:
            opened.append(unseal(kek, row))
        except KeyEncryptionError as exc:
            failures.append(exc)
    if failures and len(failures) == len(rows):
        raise KeyEncryptionError(f"none of the {len(rows)} signing keys decrypts: wrong "
                                 "IDP_KEY_ENCRYPTION_KEY (every node needs the same)")
    if failures:
        raise failures[0]
    return opened


def reseal(kek: MultiFernet, token: str) -> str:
    """The same sealed document under the first KEK (KEK rotation)."""
    try:
        return kek.rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError):
        raise KeyEncryptionError("a signing key does not decrypt with any configured "
                                 "key-encryption key") from None
