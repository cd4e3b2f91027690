"""SAML 2.0 identity provider: pysaml2 adapter (server, requests, responses, logout,
attributes, keys, SP registry) with the in-process crypto backend."""
from __future__ import annotations

import warnings

from flask import Flask

# pysaml2 imports cryptography's CFB mode, deprecated there, at import: nothing of ours
# uses it, and the warning printed on every `idp` command.
warnings.filterwarnings("ignore", message="CFB has been moved", module="saml2.cryptography")

from ..extensions import csrf
from ..signin import register_adapter
from ..signin.gate import allow
from . import crypto_backend, views
from .adapter import SamlAdapter
from .server import SamlIdp


def init_app(app: Flask) -> None:
    crypto_backend.install()  # before any pysaml2 Server is built: no xmlsec1, no SHA-1
    app.extensions["idp"]["saml"] = SamlIdp(app.config, app.extensions["idp"]["keyring"])
    app.register_blueprint(views.bp)
    # Protocol endpoints check the request and hand over to the plan, which answers
    # through /continue (gated) or consent's refusal.
    allow("saml.metadata", "saml.sso_redirect", "saml.sso_post", "saml.sso_resume",
          "saml.slo_redirect", "saml.slo_post", "saml.slo_resume",
          "saml.slo_confirm", "saml.slo_stay", "saml.slo_answer")
    # Cross-site POSTs from SPs: the SAML message is the proof (signature, ID, instant).
    csrf.exempt(views.sso_post)
    csrf.exempt(views.slo_post)
    register_adapter(app, SamlAdapter())
