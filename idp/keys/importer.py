"""`idp keys import DIR`: the keys of a former keys/ directory moved into the database.

Until issue 15 each host kept its keys on disk: `keyring.json` listing the OIDC keys
(kid, alg, file, created, retired as Unix times) beside one PKCS#8 PEM per key, and
`saml/idp-signing.key` with `saml/idp-signing.crt`. Importing keeps the kids, the states
and the SAML certificate SPs already pin, so relying parties notice nothing.

All or nothing: a file that cannot be read or does not match stops the import with one
line and writes nothing. Running it again skips what is already imported. A database
that already has an active key of an algorithm keeps signing with it: the imported OIDC
key is then published as retired (tokens it signed keep verifying for the grace
period), and an imported SAML key is skipped (SPs pin one certificate; a rollover is
`idp keys rotate --saml`).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import SigningKey, utcnow
from . import material
from .keyset import check_key_encryption, current_keys, flush_change, new_row
from .version import changed

INDEX = "keyring.json"
SAML_KEY = Path("saml") / "idp-signing.key"
SAML_CERT = Path("saml") / "idp-signing.crt"
_TYPES = {"RS256": rsa.RSAPrivateKey, "ES256": ec.EllipticCurvePrivateKey}


class ImportProblem(ValueError):
    """A keys directory that cannot be imported (one line; nothing was written)."""


def _read_private(path: Path, alg: str):
    try:
        key = material.load_private(path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise ImportProblem(f"{path}: not a readable private key ({exc})") from None
    if not isinstance(key, _TYPES[alg]):
        raise ImportProblem(f"{path}: not an {alg} key")
    return key


def _moment(value) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), timezone.utc)


def _oidc_entries(keys_dir: Path) -> list[dict]:
    index = keys_dir / INDEX
    if not index.exists():
        return []
    try:
        entries = json.loads(index.read_text())
        return [{"kid": str(e["kid"]), "alg": str(e["alg"]), "file": str(e["file"]),
                 "created": _moment(e["created"]), "retired": _moment(e.get("retired"))}
                for e in entries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImportProblem(f"{index}: not a keyring index ({exc})") from None


def import_directory(session: Session, kek, keys_dir: str | Path, grace_days: float,
                     now: datetime | None = None) -> dict:
    """Import the directory's keys; {"imported": [...], "skipped": [...]} of
    {kid, purpose, state | reason}."""
    keys_dir, now = Path(keys_dir), now or utcnow()
    if not keys_dir.is_dir():
        raise ImportProblem(f"{keys_dir}: no such directory")
    check_key_encryption(session, kek)
    known = set(session.scalars(select(SigningKey.kid)))
    active = current_keys(session, "oidc", "active")
    rows, skipped = [], []
    for entry in _oidc_entries(keys_dir):
        kid, alg = entry["kid"], entry["alg"]
        if alg not in material.OIDC_ALGORITHMS:
            raise ImportProblem(f"{keys_dir / INDEX}: {kid} has an unknown algorithm {alg}")
        if kid in known:
            skipped.append({"kid": kid, "purpose": "oidc", "reason": "already imported"})
            continue
        retired = entry["retired"]
        if retired is not None and retired + timedelta(days=float(grace_days)) < now:
            skipped.append({"kid": kid, "purpose": "oidc",
                            "reason": "retired beyond the grace period"})
            continue
        key = _read_private(keys_dir / entry["file"], alg)
        if retired is None and alg in active:
            retired = now  # the database's key keeps signing; this one stays verifiable
        elif retired is None:
            active[alg] = kid
        row = new_row(kek, "oidc", alg, "active" if retired is None else "retired", now,
                      signs_from=entry["created"] or now, private_key=key, kid=kid)
        row.created_at, row.retired_at = entry["created"] or now, retired
        rows.append(row)
    saml = _saml_row(session, kek, keys_dir, known, now, skipped)
    rows += [saml] if saml is not None else []
    if rows:
        session.add_all(rows)
        flush_change(session)
        changed(session)
    return {"imported": [{"kid": r.kid, "purpose": r.purpose, "state": r.state} for r in rows],
            "skipped": skipped}


def _saml_row(session, kek, keys_dir: Path, known: set, now: datetime,
              skipped: list) -> SigningKey | None:
    key_path, cert_path = keys_dir / SAML_KEY, keys_dir / SAML_CERT
    if not key_path.exists() and not cert_path.exists():
        return None
    key = _read_private(key_path, "RS256")
    try:
        cert_pem = cert_path.read_text()
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
    except (OSError, ValueError) as exc:
        raise ImportProblem(f"{cert_path}: not a readable certificate ({exc})") from None
    if material.certificate_public_pem(cert_pem) != material.public_pem(key):
        raise ImportProblem(f"{cert_path}: does not belong to {key_path}")
    issued = cert.not_valid_before_utc
    kid = f"saml-{issued:%Y%m%d}-{material.fingerprint(cert_pem)[:8]}"
    if kid in known:
        skipped.append({"kid": kid, "purpose": "saml", "reason": "already imported"})
        return None
    current = current_keys(session, "saml", "active").get(material.SAML_ALGORITHM)
    if current is not None:
        skipped.append({"kid": kid, "purpose": "saml",
                        "reason": f"the database already signs SAML with {current.kid}"})
        return None
    row = new_row(kek, "saml", material.SAML_ALGORITHM, "active", now, signs_from=now,
                  private_key=key, certificate=cert_pem, kid=kid)
    row.created_at = issued
    return row
