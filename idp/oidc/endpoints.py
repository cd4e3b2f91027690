"""The token-side endpoints, called by relying parties' servers: token, revoke,
introspect, userinfo and the JWKS. Authlib answers each of them (server.py)."""
from __future__ import annotations

from flask import jsonify, request

from ..extensions import keyring
from . import tokens
from .adapter import server
from .claims import user_info
from .views import bp


@bp.post("/token")
def token():
    if any(len(values) > 1 for values in request.form.listvalues()):
        # RFC 6749 3.2: parameters must not be repeated (Authlib lets it through).
        response = jsonify(error="invalid_request",
                           error_description="A parameter is repeated.")
        response.status_code = 400
        return response
    return server().create_token_response()


@bp.post("/revoke")
def revoke():
    return server().create_endpoint_response("revocation")


@bp.post("/introspect")
def introspect():
    return server().create_endpoint_response("introspection")


def _bearer_error(error: str, status: int = 401):
    response = jsonify(error=error)
    response.status_code = status
    response.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return response


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    """Bearer token in the Authorization header, or in the form body (RFC 6750 2.2)."""
    auth = request.headers.get("Authorization", "")
    value = auth[7:].strip() if auth[:7].lower() == "bearer " else request.form.get("access_token")
    found = tokens.find_access_token(value)
    if found is None:
        return _bearer_error("invalid_token")
    if "openid" not in found.scope.split():
        return _bearer_error("insufficient_scope", 403)
    account, client = found.get_user(), found.get_client()
    if account is None or client is None:
        return _bearer_error("invalid_token")
    return jsonify(dict(user_info(account, client, found.scope)))


@bp.get("/jwks")
def jwks():
    response = jsonify(keyring().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
