"""The token-side endpoints, called by relying parties' servers: token, revoke,
introspect, userinfo and the JWKS. Authlib answers each of them (server.py)."""
from __future__ import annotations

import logging

from authlib.oauth2.rfc6749 import InsecureTransportError
from flask import jsonify, request
from flask_babel import gettext as _

from .. import metrics
from ..errors import error_page
from ..extensions import keyring
from ..keys import KeysUnavailable
from ..request_lifecycle import for_servers
from .adapter import server
from .views import bp

log = logging.getLogger(__name__)


@bp.post("/token")
def token():
    if any(len(values) > 1 for values in request.form.listvalues()):
        # RFC 6749 3.2: parameters must not be repeated (Authlib lets it through).
        response = jsonify(error="invalid_request",
                           error_description="A parameter is repeated.")
        response.status_code = 400
        return response
    if request.form.get("grant_type") == "authorization_code":
        # The ID token needs a key: without one, say so before the code is spent.
        try:
            keyring().current()
        except KeysUnavailable as exc:
            log.error("token endpoint: %s", exc)
            response = jsonify(error="temporarily_unavailable",
                               error_description="Signing keys are unavailable; try again.")
            response.status_code = 503
            response.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
            return response
    response = server().create_token_response()
    if response.status_code == 200:
        grant = request.form.get("grant_type")
        metrics.TOKENS_ISSUED.labels(grant=grant if grant in _GRANTS else "other").inc()
    return response


_GRANTS = ("authorization_code", "refresh_token", "client_credentials")


@bp.post("/revoke")
def revoke():
    return server().create_endpoint_response("revocation")


@bp.post("/introspect")
def introspect():
    return server().create_endpoint_response("introspection")


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    """Bearer token in the Authorization header, or in the form body (userinfo.py)."""
    return server().create_endpoint_response("userinfo")


@bp.get("/jwks")
def jwks():
    response = jsonify(keyring().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.errorhandler(InsecureTransportError)
def plain_http(exc):
    """Authlib refuses plain http for a host that is not local (it raises before its own
    error handling): TLS ended at a proxy IDP_TRUSTED_PROXIES does not trust, or the
    client skipped it. The protocol's error, not a 500."""
    if for_servers():
        response = jsonify(error="invalid_request", error_description="HTTPS is required.")
        response.status_code = 400
        return response
    return error_page(400, _("Requête invalide"), _("La demande n'a pas pu être traitée."))
