"""Identity provider for French school families: create_app builds one Flask app.

config -> extensions -> blueprints -> gate. Everything a request needs that is costly to
build (keys, password hasher and its dummy hash, academies, the OIDC server) is built here,
once per process.
"""
from __future__ import annotations

import tomllib

from flask import Flask

from . import config as config_module
from . import dev_outbox, errors, i18n, journeys, keys, local_time, oidc, ops, saml
from . import request_lifecycle
from .admin import console
from .db import db
from .extensions import csrf
from .keys import KeyRing
from .security import client_address, headers
from .security.admission import Admission
from .security.admitted_passwords import AdmittedPasswords
from .security.passwords import Passwords
from .security.sessions import StoreSessionInterface
from .security.throttle import Throttle
from .signin import gate
from .signin import views as signin_views
from .store import open_store


def create_app(overrides: dict | None = None) -> Flask:
    settings = config_module.load(overrides)
    config_module.validate(settings)

    app = Flask(__name__, template_folder=str(config_module.PROJECT_ROOT / "templates"),
                static_folder=str(config_module.PROJECT_ROOT / "static"))
    app.config.update(settings)
    app.config["WTF_CSRF_SSL_STRICT"] = False  # SameSite=Lax + token; proxies strip Referer
    # The client's address for throttles and audit rows, from IDP_TRUSTED_PROXIES proxies.
    app.wsgi_app = client_address.behind_proxies(app.wsgi_app, settings["TRUSTED_PROXIES"])

    db.init_app(app)
    store = open_store(settings)
    with open(settings["ACADEMIES_FILE"], "rb") as fh:
        academies = tomllib.load(fh)["academies"]
    # One waiting room per process, in front of the password verifications of sign-ins.
    admission = Admission.from_config(store, settings)
    app.extensions["idp"] = {
        "store": store,
        "admission": admission,
        "passwords": AdmittedPasswords(Passwords.from_config(settings), admission),
        "throttle": Throttle.from_config(store, settings),
        "keyring": KeyRing(app.config, store),  # loaded from the database when first used
        "academies": academies,
    }
    app.session_interface = StoreSessionInterface(
        store, idle_seconds=settings["SESSION_IDLE_MINUTES"] * 60,
        absolute_seconds=settings["SESSION_ABSOLUTE_HOURS"] * 3600,
        secure=bool(settings["SESSION_COOKIE_SECURE"]))
    errors.init_app(app)  # first: a store outage must answer 503 before CSRF checks run
    keys.init_app(app)  # signing keys unavailable: 503
    csrf.init_app(app)
    i18n.init_app(app)  # Babel: the page's language, the switch, the account's language
    local_time.init_app(app)  # the `paris` filter: times shown in Europe/Paris
    headers.init_app(app)

    app.register_blueprint(signin_views.bp)
    journeys.register(app)
    dev_outbox.init_app(app)  # the page, when DEBUG or DEV_OUTBOX
    oidc.init_app(app)
    saml.init_app(app)
    console.init_app(app)  # /admin: staff console with its own guard (issue 8)
    gate.init_app(app)
    ops.init_app(app)  # last: /healthz, /readyz, /metrics answered before all the above

    @app.context_processor
    def inject_globals():
        return {"academies": academies}

    request_lifecycle.init_app(app)  # after every app-wide hook is registered
    return app

