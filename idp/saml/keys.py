"""The SAML IdP's signing key and self-signed certificate, under keys/saml/.

SAML SPs trust the certificate published in our metadata (pinned, not a CA chain), so a
self-signed one is what is expected. RSA-2048 with SHA-256: what every SP accepts, and
cheap enough to sign a response and its assertion in about a millisecond each. Created
by `idp keys generate` (never overwritten); the private key file is 0600.
"""
from __future__ import annotations

import datetime
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ..models import utcnow

KEY_FILE = "idp-signing.key"
CERT_FILE = "idp-signing.crt"
VALID_DAYS = 3650  # rotation is a metadata change announced to SPs, not an expiry


def key_paths(keys_dir: str | Path) -> tuple[Path, Path]:
    """(private key, certificate) paths of the IdP's SAML signing key."""
    base = Path(keys_dir) / "saml"
    return base / KEY_FILE, base / CERT_FILE


def has_keys(keys_dir: str | Path) -> bool:
    key, cert = key_paths(keys_dir)
    return key.exists() and cert.exists()


def generate(keys_dir: str | Path, common_name: str = "Connexion Scolarite SAML IdP",
             key_size: int = 2048) -> list[str]:
    """Create the key and certificate if missing; return the files created."""
    key_path, cert_path = key_paths(keys_dir)
    if key_path.exists() and cert_path.exists():
        return []
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = key_path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.replace(tmp, key_path)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return [str(key_path), str(cert_path)]
