"""Signing keys as the console and the `idp keys` commands show and change them (audited).

The keys live in the database (idp/keys/): a change made here holds for every node,
which notices it within a second through the keys' version in the store. OIDC keys
rotate in one step (new keys published at once, signing two seconds later everywhere,
the previous public keys published for KEY_GRACE_DAYS). SAML SPs pin the certificate of
our metadata, so its rollover has two steps: `rotate_saml` publishes the next
certificate, `activate_saml` (once SPs have refreshed the metadata) makes it sign.
"""
from __future__ import annotations

from flask import current_app

from ..audit import record
from ..db import db
from ..extensions import store
from ..keys import keyset
from ..keys.importer import import_directory
from ..keys.material import certificate_facts
from ..keys.sealing import key_encryption
from ..keys.version import read_version


def _grace() -> float:
    return float(current_app.config["KEY_GRACE_DAYS"])


def all_keys() -> list[dict]:
    """Every published key, newest first (keyset.listing)."""
    return keyset.listing(db.session, _grace())


def oidc_keys() -> list[dict]:
    return [k for k in all_keys() if k["purpose"] == "oidc"]


def saml_certificate() -> dict | None:
    """The certificate of the SAML key that is active (subject, SHA-256, expiry)."""
    for entry in all_keys():
        if entry["purpose"] == "saml" and entry["state"] == "active":
            return entry["certificate"]
    return None


def _store_reachable() -> None:
    """Before a change: the other nodes learn of it through the store, so a store that is
    down refuses the change (StoreUnavailable) rather than leave them unaware."""
    read_version(store())


def generate_signing_keys(actor: str | None = None) -> list[dict]:
    """The keys missing from the database (first set-up); [] when all exist."""
    created = keyset.generate(db.session, key_encryption(current_app.config))
    if created:
        record("signing_keys_generated", actor=actor, target="keys",
               new=[row.kid for row in created])
    return [{"kid": r.kid, "purpose": r.purpose, "alg": r.alg} for r in created]


def rotate_signing_keys(actor: str | None = None) -> list[dict]:
    """New RS256 and ES256 keys; the previous public keys stay published for the grace
    period, keys retired longer ago are deleted."""
    _store_reachable()
    new = keyset.rotate_oidc(db.session, key_encryption(current_app.config), _grace())
    record("signing_keys_rotated", actor=actor, target="oidc", new=[k.kid for k in new])
    return [{"kid": k.kid, "alg": k.alg, "signs_from": k.signs_from.isoformat()} for k in new]


def rotate_saml(actor: str | None = None) -> dict:
    """Publish the next SAML certificate in the metadata (it does not sign yet)."""
    _store_reachable()
    row = keyset.publish_next_saml(db.session, key_encryption(current_app.config))
    record("saml_next_certificate_published", actor=actor, target="saml", kid=row.kid)
    return {"kid": row.kid, "state": row.state, "certificate": certificate_facts(row.public_pem)}


def activate_saml(actor: str | None = None) -> dict:
    """The next SAML key signs (on every node two seconds from now)."""
    _store_reachable()
    row = keyset.activate_saml(db.session, key_encryption(current_app.config), _grace())
    record("saml_signing_key_activated", actor=actor, target="saml", kid=row.kid)
    return {"kid": row.kid, "state": row.state, "signs_from": row.signs_from.isoformat(),
            "certificate": certificate_facts(row.public_pem)}


def reencrypt_signing_keys(actor: str | None = None) -> int:
    """Every key sealed again with the first key-encryption key."""
    count = keyset.reencrypt(db.session, key_encryption(current_app.config))
    record("signing_keys_reencrypted", actor=actor, target="keys", count=count)
    return count


def import_signing_keys(directory: str, actor: str | None = None) -> dict:
    """The keys of a former keys/ directory moved into the database (importer.py)."""
    report = import_directory(db.session, key_encryption(current_app.config), directory,
                              _grace())
    if report["imported"]:
        record("signing_keys_imported", actor=actor, target="keys",
               kids=[r["kid"] for r in report["imported"]])
    return report
