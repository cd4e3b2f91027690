"""Signing keys in the database, encrypted, cached per process, rotated for every node.

material.py (new keys, certificates), sealing.py (the key-encryption key), keyset.py
(generate, rotate, the SAML rollover, re-encryption), importer.py (a former keys/
directory), ring.py (each process's cached view), version.py (the version in the store).
"""
from __future__ import annotations

import logging

from flask import Flask

from ..errors import unavailable
from .errors import KeyChangeConflict, KeyEncryptionError, KeysUnavailable, NoKeysYet
from .ring import KeyRing

log = logging.getLogger(__name__)

__all__ = ["KeyRing", "KeysUnavailable", "KeyEncryptionError", "KeyChangeConflict",
           "NoKeysYet", "init_app"]


def init_app(app: Flask) -> None:
    @app.errorhandler(KeysUnavailable)
    def keys_unavailable(exc):
        # The token endpoint checks the keys before it spends a code; this is for a load
        # failing in between, and for every other page or endpoint.
        log.error("signing keys unavailable: %s", exc)
        return unavailable("Signing keys are unavailable.")
