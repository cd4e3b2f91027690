"""Key material: new key pairs, their PEM forms, the SAML self-signed certificate.

OIDC signs ID tokens with RS256 (RSA-2048) and ES256 (P-256). SAML SPs pin the
certificate published in our metadata (no CA chain), so a self-signed RSA-2048
certificate with SHA-256 is what is expected; it is valid for years because its
rollover is a metadata change announced to SPs (`idp keys rotate --saml`), not an expiry.
"""
from __future__ import annotations

import datetime
import hashlib
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ..models import utcnow

OIDC_ALGORITHMS = ("RS256", "ES256")
SAML_ALGORITHM = "RS256"  # RSA-SHA256 signatures (crypto_backend refuses SHA-1)
SAML_COMMON_NAME = "Connexion Scolarite SAML IdP"
CERTIFICATE_DAYS = 3650


def new_private_key(alg: str):
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unsupported algorithm {alg}")


def private_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_pem(key) -> str:
    """The SubjectPublicKeyInfo PEM of a private key."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_private(pem: bytes):
    return serialization.load_pem_private_key(pem, password=None)


def self_signed_certificate(key, common_name: str = SAML_COMMON_NAME,
                            days: int = CERTIFICATE_DAYS) -> str:
    """A self-signed X.509 certificate (PEM) for `key`, SHA-256."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def certificate_public_pem(cert_pem: str) -> str:
    """The SubjectPublicKeyInfo PEM inside a certificate."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return cert.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def certificate_base64(cert_pem: str) -> str:
    """The certificate's DER in base64 on one line (what XML KeyInfo carries)."""
    return "".join(line for line in cert_pem.strip().splitlines() if "-----" not in line)


def certificate_facts(cert_pem: str) -> dict:
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return {"subject": cert.subject.rfc4514_string(),
            "sha256": cert.fingerprint(hashes.SHA256()).hex(":").upper(),
            "not_after": cert.not_valid_after_utc.isoformat()}


def fingerprint(public: str) -> str:
    """SHA-256 of a public PEM (key or certificate) as stored: binds the sealed private
    part to the public part the row publishes."""
    return hashlib.sha256(public.strip().encode()).hexdigest()


def new_kid(purpose: str, alg: str, when: datetime.datetime | None = None) -> str:
    """`rs256-20260512-1a2b3c4d` (OIDC, the format keys/ used) or `saml-20260512-...`."""
    stamp = (when or utcnow()).strftime("%Y%m%d")
    head = alg.lower() if purpose == "oidc" else "saml"
    return f"{head}-{stamp}-{secrets.token_hex(4)}"
