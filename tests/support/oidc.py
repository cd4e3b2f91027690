"""Helpers to drive the authorization code flow with PKCE from tests."""
from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(rp, *, scope: str = "openid profile email education",
                     challenge: str | None = None, **extra) -> dict:
    params = {"response_type": "code", "client_id": rp.client_id,
              "redirect_uri": rp.redirect_uri, "scope": scope, "state": "st-123",
              "nonce": secrets.token_urlsafe(12)}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def query(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
