"""OpenID Connect provider: Authlib adapter (server, grants, claims, keys, logout)."""
from __future__ import annotations

from flask import Flask

from ..extensions import csrf
from ..signin import register_adapter
from ..signin.gate import allow
from . import discovery, endpoints, views
from .adapter import OidcAdapter
from .server import build_server


def init_app(app: Flask) -> None:
    app.extensions["idp"]["oidc_server"] = build_server(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(discovery.well_known)
    # Protocol endpoints validate first and hand over to the plan, which answers
    # through /continue (gated) or consent's refusal.
    allow("oidc.authorize", "oidc.token", "oidc.userinfo", "oidc.revoke", "oidc.introspect",
          "oidc.jwks", "oidc.end_session", "well_known.openid_configuration")
    register_adapter(app, OidcAdapter())
    # Called by relying parties (servers, or browsers sent by an RP): client authentication,
    # a bearer token or the protocol's own checks protect them. end_session checks the CSRF
    # token of its own confirmation form.
    for view in (endpoints.token, endpoints.userinfo, endpoints.revoke,
                 endpoints.introspect, views.authorize, views.end_session):
        csrf.exempt(view)
