"""Signing keys in the database, encrypted, cached per process, rotated for every node.

material.py (new keys, certificates), sealing.py (the key-encryption key), keyset.py
(generate, rotate, the SAML rollover, re-encryption), importer.py (a former keys/
directory), ring.py (each process's cached view), version.py (the version in the store).
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from flask_babel import gettext as _

from ..errors import error_page
from .errors import KeyChangeConflict, KeyEncryptionError, KeysUnavailable, NoKeysYet
from .ring import KeyRing

log = logging.getLogger(__name__)

__all__ = ["KeyRing", "KeysUnavailable", "KeyEncryptionError", "KeyChangeConflict",
           "NoKeysYet", "init_app"]

# Endpoints called by servers, which expect JSON (the token endpoint checks the keys
# before it spends a code; this is for a load failing in between).
_JSON_PATHS = ("/oidc/jwks", "/oidc/token", "/.well-known/")


def init_app(app: Flask) -> None:
    @app.errorhandler(KeysUnavailable)
    def keys_unavailable(exc):
        log.error("signing keys unavailable: %s", exc)
        if request.path.startswith(_JSON_PATHS):
            response = jsonify(error="temporarily_unavailable",
                               error_description="Signing keys are unavailable.")
            response.status_code = 503
            response.headers["Retry-After"] = "5"
            return response
        return error_page(503, _("Service momentanément indisponible"),
                          _("Le service est momentanément indisponible. "
                            "Réessayez dans quelques minutes."))
