"""What can go wrong with the signing keys, each with a one-line reason.

A request that needs a key it cannot have answers 503 (idp/keys/__init__.py installs
the handler; the token endpoint answers its JSON `temporarily_unavailable`); the `idp
keys` commands print the reason on one line and exit 1.
"""
from __future__ import annotations


class KeysUnavailable(RuntimeError):
    """No usable signing key: none yet, the database unreachable, a row that does not
    decrypt. The message is one line for operators (never shown to families)."""


class KeyEncryptionError(KeysUnavailable):
    """The key-encryption key is missing or wrong, or a sealed row was altered."""


class KeyChangeConflict(RuntimeError):
    """Another node changed the keys at the same moment; this change was not made."""


class NoKeysYet(KeysUnavailable):
    """The database holds no signing key of that kind: `idp keys generate` first."""
