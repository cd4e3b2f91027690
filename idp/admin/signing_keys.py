"""Signing keys as the console shows them, and their rotation (audited).

OIDC keys rotate through idp.oidc.keys.rotate: new keys sign at once, the retired public
keys stay in the JWKS for KEY_GRACE_DAYS, and every process picks the change up from
keyring.json within a second. The SAML certificate is pinned by each SP from our
metadata, so it is shown (fingerprint, expiry) but not rotated from here: a SAML key
change must first be announced in the metadata SPs fetch (see the report of issue 8).
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from flask import current_app

from ..audit import record
from ..oidc.keys import read_index, rotate
from ..saml.keys import key_paths


def _iso(timestamp: float | None) -> str | None:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat() if timestamp else None


def oidc_keys() -> list[dict]:
    """Keys of the keyring, newest first, with their state."""
    config = current_app.config
    grace = float(config["KEY_GRACE_DAYS"]) * 86400
    out = []
    for entry in sorted(read_index(Path(config["KEYS_DIR"])), key=lambda e: -e.created):
        state = "active" if entry.retired is None else "retired"
        out.append({"kid": entry.kid, "alg": entry.alg, "state": state,
                    "created": _iso(entry.created), "retired": _iso(entry.retired),
                    "published_until": _iso(entry.retired + grace) if entry.retired else None})
    return out


def saml_certificate() -> dict | None:
    _, cert_path = key_paths(current_app.config["KEYS_DIR"])
    if not cert_path.exists():
        return None
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return {"subject": cert.subject.rfc4514_string(),
            "sha256": cert.fingerprint(hashes.SHA256()).hex(":").upper(),
            "not_after": cert.not_valid_after_utc.isoformat()}


def rotate_signing_keys(actor: str | None = None) -> list[dict]:
    """New RS256 and ES256 keys; the previous public keys stay published for the grace
    period, keys retired longer ago are pruned."""
    config = current_app.config
    new = rotate(config["KEYS_DIR"], config["KEY_GRACE_DAYS"])
    kids = [k.kid for k in new]
    record("signing_keys_rotated", actor=actor, target="oidc", new=kids)
    return [{"kid": k.kid, "alg": k.alg} for k in new]
