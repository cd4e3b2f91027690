"""The userinfo endpoint: Authlib's UserInfoEndpoint, behind a bearer-token protector.

The access token comes in the Authorization header or, RFC 6750 2.2, in the form body
(`access_token`). A missing, unknown, expired or revoked token, or one whose account or
client is gone, is answered 401 invalid_token; a token without the `openid` scope 403
insufficient_scope; both with a WWW-Authenticate: Bearer header. The claims are those of
claims.py for the token's scope and client (pairwise `sub`), plus those the `claims`
request parameter asked (claims_request.py)."""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import ResourceProtector, current_token
from authlib.oauth2.rfc6750 import BearerTokenValidator, InsufficientScopeError, InvalidTokenError
from authlib.oidc.core import UserInfoEndpoint
from flask import request

from . import claims_request, tokens
from .claims import user_info


class InsufficientScope(InsufficientScopeError):
    """Authlib's, with the WWW-Authenticate header RFC 6750 3 asks for."""

    def get_headers(self):
        return [*super().get_headers(), ("WWW-Authenticate", f'Bearer error="{self.error}"')]


class AccessTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return tokens.find_access_token(token_string)  # None when expired or revoked

    def validate_token(self, token, scopes, request, **_claims):
        if token is None or token.get_user() is None or token.get_client() is None:
            raise InvalidTokenError()
        if self.scope_insufficient(token.get_scope(), scopes):
            raise InsufficientScope()


class BearerProtector(ResourceProtector):
    def parse_request_authorization(self, oauth_request):
        """A Bearer Authorization header, else the form body; no token at all is an
        invalid one (401 invalid_token)."""
        header = request.headers.get("Authorization", "")
        value = header[7:].strip() if header[:7].lower() == "bearer " \
            else request.form.get("access_token")
        return self.get_token_validator("bearer"), value


class UserInfo(UserInfoEndpoint):
    def generate_user_info(self, user, scope):
        client = current_token.get_client()
        info = user_info(user, client, scope)
        asked = (current_token.claims or "").split()  # the `claims` parameter's
        if asked:
            extra = user_info(user, client, " ".join(claims_request.implied_scopes(
                {"userinfo": asked})))
            info.update(claims_request.pick(extra, asked))
        return info


def register_userinfo(server) -> None:
    protector = BearerProtector()
    protector.register_token_validator(AccessTokenValidator())
    server.register_endpoint(UserInfo(resource_protector=protector))
