"""The Authlib authorization server, built once per app."""
from __future__ import annotations

import logging

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidGrantError, OAuth2Request
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask, current_app
from flask import request as flask_request

from ..db import db
from ..errors import RETRY_AFTER
from ..extensions import store
from ..models import Account
from . import grants, refresh_tokens, tokens
from .claims import subject
from .client_auth import PrivateKeyJWT, client_secret_basic
from .clients import query_client
from .supported import AUTH_METHODS
from .userinfo import register_userinfo

log = logging.getLogger(__name__)


class _FlaskOAuth2Request(FlaskOAuth2Request):
    """Authlib's request on Flask's, its `uri` without the query string: werkzeug's
    `request.url` quotes the whole URL and decodes it back (-67k instructions of a token
    request's 2.6 M), and Authlib reads `uri` for its https check only."""

    def __init__(self, request):
        uri = f"{request.scheme}://{request.host}{request.root_path}{request.path}"
        OAuth2Request.__init__(self, method=request.method, uri=uri, headers=request.headers)
        self._request = request
        self.payload = FlaskOAuth2Payload(request)


class IdpAuthorizationServer(AuthorizationServer):
    def create_oauth2_request(self, request):
        # At fulfil time the authorization request is rebuilt from the pending one.
        if isinstance(request, OAuth2Request):
            return request
        return _FlaskOAuth2Request(flask_request)

    @hooked(after="after_create_authorization_response")  # RFC 9207 iss, as Authlib's
    def issue_code(self, grant, grant_user):
        """create_authorization_response for a grant that get_consent_grant validated in
        this request: Authlib's validates it a second time (store reads included)."""
        try:
            response = self.handle_response(
                *grant.create_authorization_response(grant.redirect_uri, grant_user))
        except OAuth2Error as error:
            error.state = grant.request.payload.state
            response = self.handle_error_response(grant.request, error)
        grant.execute_hook("after_authorization_response", response)
        return response


def rebuild_request(params: dict) -> OAuth2Request:
    """An authorization request from the parameters kept in the pending authorization."""
    req = OAuth2Request("GET", current_app.config["ISSUER"] + "/oidc/authorize")
    req.payload = BasicOAuth2Payload(params)
    return req


class TemporarilyUnavailable(OAuth2Error):
    """The database or the store failed while the tokens were issued: nothing is kept (the
    request's transaction is rolled back on a 5xx). A redeemed code is spent: the RP sends
    the family through the authorization again, which single sign-on answers at once."""

    error = "temporarily_unavailable"
    description = "The tokens could not be issued; try the authorization again."
    status_code = 503

    def get_headers(self):
        return [*super().get_headers(), ("Retry-After", RETRY_AFTER)]  # as every outage


NO_OWNER = "There is no 'user' for this code."  # Authlib's words when it finds no owner


def save_token(token: dict, request) -> None:
    """Authlib's save_token hook, for both grants: a code's first refresh token inserted
    (a presented one was rotated when it was taken: grants.RefreshTokenGrant), then the
    access token in the store. A failure of either keeps nothing (503; _undo)."""
    try:
        if request.authorization_code is not None:
            code = request.authorization_code
            grant_id, claims = code.grant_id, " ".join(code.claims.get("userinfo", [])) or None
            if token.get("refresh_token"):
                # Inserted only while the account is active: that is the owner's check
                # (grants.AuthorizationCodeGrant.authenticate_user left it here).
                kept = refresh_tokens.save_refresh_token(
                    token["refresh_token"], client_id=request.client.get_client_id(),
                    account_id=request.user.id, scope=token.get("scope", ""),
                    grant_id=grant_id, sid=code.sid, auth_time=code.auth_time,
                    claims=claims, days=current_app.config["REFRESH_TOKEN_DAYS"])
                if not kept:
                    raise InvalidGrantError(NO_OWNER)
            elif not request.user.checked and grants.active_owner(request.user.id) is None:
                raise InvalidGrantError(NO_OWNER)
        else:
            grant_id, claims = (request.refresh_token.taken.grant_id,
                                request.refresh_token.taken.claims)
        tokens.save_access_token(token["access_token"], client_id=request.client.get_client_id(),
                                 account_id=request.user.id, scope=token.get("scope", ""),
                                 grant_id=grant_id, expires_in=int(token["expires_in"]),
                                 claims=claims)
    except OAuth2Error:
        raise
    except Exception as error:
        log.exception("token issuance failed; nothing kept")
        _undo(token, request)
        raise TemporarilyUnavailable() from error


def _undo(token: dict, request) -> None:
    """What was committed for an answer that cannot be sent: a take is given back; a
    code's refresh token is discarded and the code, spent, is forgotten rather than
    marked used: the RP's retry after Retry-After is an unknown code (invalid_grant, the
    family goes through the authorization again), not a replay that revokes the grant
    and writes a replay to the audit trail."""
    if request.authorization_code is not None:
        try:
            store().delete(grants.used_code_key(request.payload.data.get("code") or ""))
        except Exception:  # the store is what failed: the marker may stay
            log.exception("a spent code's used marker could not be removed")
    try:
        if request.authorization_code is None:
            refresh_tokens.give_back(request.refresh_token.taken)
        elif token.get("refresh_token"):
            refresh_tokens.discard(token["refresh_token"])
    except Exception:  # the database failed too: nobody holds what is left
        log.exception("a refresh token could not be given back or discarded")


class _TokenLookup:
    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def query_token(self, token_string, token_type_hint):
        if token_type_hint != "refresh_token":
            found = tokens.find_access_token(token_string)
            if found is not None:
                return found
        row = refresh_tokens.find_refresh_token(token_string)
        return grants.RefreshTokenRecord(row) if row is not None else None


class Revocation(_TokenLookup, RevocationEndpoint):
    def revoke_token(self, token, request):
        if isinstance(token, grants.RefreshTokenRecord):
            tokens.revoke_grant(token.row.grant_id)
        else:
            tokens.revoke_access_token(request.form.get("token"))


class Introspection(_TokenLookup, IntrospectionEndpoint):
    def check_permission(self, token, client, request):
        return token.check_client(client)  # an RP introspects only its own tokens

    def introspect_token(self, token):
        issuer = current_app.config["ISSUER"]
        if isinstance(token, grants.RefreshTokenRecord):
            row = token.row
            client_id, account_id, scope = row.client_id, row.account_id, row.scope
            exp = int(row.expires_at.timestamp())
            iat = int(row.issued_at.timestamp())
        else:
            client_id, account_id, scope = token.client_id, token.account_id, token.scope
            exp, iat = token.expires_at, token.issued_at
        account = db.session.get(Account, account_id)
        client = query_client(client_id)
        if account is None or client is None:
            return {"active": False}
        return {"active": True, "client_id": client_id, "scope": scope, "iss": issuer,
                "sub": subject(account, client), "exp": exp, "iat": iat,
                "token_type": "Bearer", "aud": client_id}


class Issuer(IssuerParameter):
    def get_issuer(self):
        return current_app.config["ISSUER"]


def build_server(app: Flask) -> IdpAuthorizationServer:
    app.config.setdefault("OAUTH2_ACCESS_TOKEN_GENERATOR", tokens.new_token)
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", tokens.new_token)
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {
        "authorization_code": app.config["ACCESS_TOKEN_SECONDS"],
        "refresh_token": app.config["ACCESS_TOKEN_SECONDS"]})
    server = IdpAuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.register_grant(grants.AuthorizationCodeGrant,
                          [grants.StrictCodeChallenge(required=True), grants.OpenIDCode()])
    server.register_grant(grants.RefreshTokenGrant)
    server.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    server.register_client_auth_method("client_secret_basic", client_secret_basic)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    server.register_extension(Issuer())
    register_userinfo(server)
    return server
