"""Logout: back-channel notices to every RP of the session, and the checks of RP-initiated
logout (an id_token_hint we signed, a registered post_logout_redirect_uri)."""
from __future__ import annotations

import logging
import secrets
import time

import requests
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import select

from ..db import db
from ..extensions import keyring
from ..keys import KeysUnavailable
from ..models import Account, OIDCClient
from .claims import subject
from .clients import Client

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def logout_token(client: OIDCClient, account: Account, sid: str | None) -> str:
    kid, key = keyring().signing_key("RS256")
    claims = {"iss": current_app.config["ISSUER"], "aud": client.client_id,
              "iat": int(time.time()), "exp": int(time.time()) + 120,
              "jti": secrets.token_urlsafe(16), "events": {EVENT: {}},
              "sub": subject(account, client)}
    if sid:
        claims["sid"] = sid
    return jwt.encode({"alg": "RS256", "kid": kid, "typ": "logout+jwt"}, claims, key)


def notify_backchannel(session_snapshot: dict) -> None:
    """POST a logout token to each OIDC RP of the ending session (OIDC Back-Channel
    Logout 1.0). Best effort with a short timeout: an RP that is down does not keep the
    family signed in here."""
    client_ids = [rp["client_id"] for rp in session_snapshot.get("rps", [])
                  if rp["protocol"] == "oidc"]
    if not client_ids:
        return
    account = db.session.get(Account, session_snapshot["account_id"])
    rows = db.session.scalars(select(OIDCClient).where(OIDCClient.client_id.in_(client_ids),
                                                       OIDCClient.backchannel_logout_uri.is_not(None)))
    for row in rows:
        try:
            requests.post(row.backchannel_logout_uri,
                          data={"logout_token": logout_token(row, account, session_snapshot.get("sid"))},
                          timeout=current_app.config["BACKCHANNEL_LOGOUT_TIMEOUT"])
        except requests.RequestException as exc:
            log.warning("back-channel logout to %s failed: %s", row.name, exc)
        except KeysUnavailable as exc:  # the family's logout still ends their session
            log.error("back-channel logout not sent: %s", exc)
            return


class LogoutRequestError(ValueError):
    """RP-initiated logout parameters we will not act on (never redirect then)."""


def check_logout_request(id_token_hint: str | None, redirect_uri: str | None,
                         client_id: str | None) -> tuple[Client | None, str | None]:
    """Return (client, redirect target) or raise LogoutRequestError.

    A redirect happens only with an id_token_hint we signed for a known client and a
    post_logout_redirect_uri registered for that very client."""
    client = None
    if id_token_hint:
        try:
            token = jwt.decode(id_token_hint, keyring().public_key_set(),
                               algorithms=["RS256", "ES256"])
        except (JoseError, ValueError) as exc:
            raise LogoutRequestError("id_token_hint is not one of ours") from exc
        claims = token.claims
        if claims.get("iss") != current_app.config["ISSUER"]:
            raise LogoutRequestError("id_token_hint from another issuer")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if client_id and client_id not in audiences:
            raise LogoutRequestError("client_id does not match id_token_hint")
        row = db.session.scalar(select(OIDCClient).where(
            OIDCClient.client_id.in_([a for a in audiences if isinstance(a, str)]),
            OIDCClient.enabled.is_(True)))
        if row is None:
            raise LogoutRequestError("id_token_hint for an unknown client")
        client = Client(row)
    if redirect_uri:
        if client is None:
            raise LogoutRequestError("post_logout_redirect_uri needs a valid id_token_hint")
        if redirect_uri not in client.row.post_logout_redirect_uris:
            raise LogoutRequestError("post_logout_redirect_uri is not registered")
    return client, redirect_uri
