"""Logout: back-channel notices to every RP of the session (through the outbox), and the checks of RP-initiated
logout (an id_token_hint we signed, a registered post_logout_redirect_uri)."""
from __future__ import annotations

import json
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
from ..models import Account, OIDCClient, OutboxMessage
from ..notify.senders import DeliveryError, PermanentDeliveryError, register_sender
from .claims import subject
from .clients import Client

EVENT = "http://schemas.openid.net/event/backchannel-logout"
CHANNEL = "logout"  # outbox channel of back-channel logout notices


def logout_token(client: OIDCClient, sub: str, sid: str | None) -> str:
    """A Logout Token for `client` (signed now: valid two minutes from this attempt)."""
    kid, key = keyring().signing_key("RS256")
    claims = {"iss": current_app.config["ISSUER"], "aud": client.client_id,
              "iat": int(time.time()), "exp": int(time.time()) + 120,
              "jti": secrets.token_urlsafe(16), "events": {EVENT: {}}, "sub": sub}
    if sid:
        claims["sid"] = sid
    return jwt.encode({"alg": "RS256", "kid": kid, "typ": "logout+jwt"}, claims, key)


def notify_backchannel(session_snapshot: dict) -> None:
    """Queue a back-channel logout notice (OIDC Back-Channel Logout 1.0) for each OIDC RP
    of the ending session: an outbox row (channel "logout") in the request's transaction,
    POSTed by `idp worker` with retries and backoff (notify/delivery.py), so the family's
    logout never waits on an RP. The row holds the client, `sub` and `sid`; the token is
    signed at each attempt (it lives two minutes)."""
    client_ids = [rp["client_id"] for rp in session_snapshot.get("rps", [])
                  if rp["protocol"] == "oidc"]
    if not client_ids:
        return
    account = db.session.get(Account, session_snapshot["account_id"])
    if account is None:
        return
    rows = db.session.scalars(select(OIDCClient).where(OIDCClient.client_id.in_(client_ids),
                                                       OIDCClient.backchannel_logout_uri.is_not(None)))
    for row in rows:
        notice = {"sub": subject(account, row), "sid": session_snapshot.get("sid")}
        db.session.add(OutboxMessage(channel=CHANNEL, recipient=row.client_id,
                                     template="backchannel_logout", text=json.dumps(notice)))


class BackchannelSender:
    """The outbox sender of channel "logout": POST the logout token to the RP's current
    back-channel URI. 2xx: delivered. 4xx (but 408, 429): the RP refused it, no retry.
    Anything else, a network error or the signing keys unavailable: retried later."""

    def __init__(self, settings):
        self.timeout = float(settings["BACKCHANNEL_LOGOUT_TIMEOUT"])
        self.http = requests.Session()

    def send(self, message: OutboxMessage) -> None:
        notice = json.loads(message.text)
        row = db.session.scalar(select(OIDCClient).where(
            OIDCClient.client_id == message.recipient))
        if row is None or not row.backchannel_logout_uri:
            raise PermanentDeliveryError("client gone or its back-channel logout removed")
        try:
            token = logout_token(row, notice["sub"], notice.get("sid"))
        except KeysUnavailable as exc:
            raise DeliveryError(f"signing keys unavailable: {exc}") from exc
        try:
            answer = self.http.post(row.backchannel_logout_uri, data={"logout_token": token},
                                    timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise DeliveryError(f"{type(exc).__name__} posting to {row.name}") from exc
        if 200 <= answer.status_code < 300:
            return
        if 400 <= answer.status_code < 500 and answer.status_code not in (408, 429):
            raise PermanentDeliveryError(f"{row.name} answered HTTP {answer.status_code}")
        raise DeliveryError(f"{row.name} answered HTTP {answer.status_code}")

    def close(self) -> None:
        self.http.close()


# The back-channel has one way out (HTTP POST); "outbox" is the backend name every
# channel gets by default (notify/senders.py: LOGOUT_BACKEND unset).
register_sender(CHANNEL, "outbox", BackchannelSender)


class LogoutRequestError(ValueError):
    """RP-initiated logout parameters we will not act on (never redirect then);
    `client_id` is the client the id_token_hint we signed names, when it names one."""

    def __init__(self, reason: str, client_id: str | None = None):
        super().__init__(reason)
        self.client_id = client_id


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
            raise LogoutRequestError("id_token_hint for an unknown client",
                                     next((a for a in audiences if isinstance(a, str)), None))
        client = Client(row)
    if redirect_uri:
        if client is None:
            raise LogoutRequestError("post_logout_redirect_uri needs a valid id_token_hint")
        if redirect_uri not in client.row.post_logout_redirect_uris:
            raise LogoutRequestError("post_logout_redirect_uri is not registered",
                                     client.client_id)
    return client, redirect_uri
