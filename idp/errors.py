"""Error pages: our French page for every error, never a stack trace, never a redirect
to a target we have not verified.

An outage (the store, the database, the signing keys) answers 503 with Retry-After, never
500: our page for browsers, the protocol's JSON error (`temporarily_unavailable`) on the
endpoints relying parties' servers call. That holds wherever the failure happens, in a
view or after it (the request's commit, the session's save: Flask hands those to the 500
handler with the original exception)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from .db import unreachable
from .request_lifecycle import for_servers
from .store import StoreUnavailable

log = logging.getLogger(__name__)
RETRY_AFTER = "5"  # seconds, on every 503 an outage answers


def error_page(status: int, title: str, message: str):
    return render_template("errors/error.html", title=title, message=message), status


def unavailable(description: str = "The service is temporarily unavailable; try again."):
    """The 503 answer to an outage: JSON `temporarily_unavailable` for servers (with
    `description`), our French page for browsers."""
    if for_servers():
        response = jsonify(error="temporarily_unavailable", error_description=description)
        response.status_code = 503
    else:
        response = make_response(error_page(
            503, _("Service momentanément indisponible"),
            _("Le service est momentanément indisponible. Réessayez dans quelques minutes.")))
    response.headers["Retry-After"] = RETRY_AFTER
    return response


def _outage(exc: BaseException | None) -> str | None:
    """What is out when `exc` is an outage (None when it is not one)."""
    if isinstance(exc, StoreUnavailable):
        return "store"
    if isinstance(exc, (DBAPIError, PoolTimeout)) and unreachable(exc):
        return "database"
    return None


def init_app(app: Flask) -> None:
    @app.before_request
    def store_was_unavailable():  # browsers only: the servers' endpoints open no session
        if request.environ.get("idp.store_unavailable"):
            raise StoreUnavailable("session store unreachable")

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        # "tu" or "vous" is the template's to choose (speaks_to_a_pupil, idp/i18n.py).
        return render_template("errors/form_expired.html"), 400

    @app.errorhandler(StoreUnavailable)
    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def out(exc):
        what = _outage(exc)
        if what is None:
            log.exception("unexpected error")
            return _unexpected_page()
        log.error("%s unavailable: %s", what, str(exc).splitlines()[0] if str(exc) else exc)
        return unavailable()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            404: (_("Page introuvable"), _("Cette page n'existe pas.")),
            405: (_("Action impossible"), _("Cette action n'est pas possible ici.")),
        }
        title, message = messages.get(exc.code, (_("Requête invalide"),
                                                 _("La demande n'a pas pu être traitée.")))
        return error_page(exc.code or 400, title, message)

    @app.errorhandler(InternalServerError)
    def after_the_view(exc: InternalServerError):
        """An exception outside the view (Flask logged it): 503 for an outage."""
        if _outage(exc.original_exception):
            return unavailable()
        return _unexpected_page()

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unexpected error")
        return _unexpected_page()


def _unexpected_page():
    return error_page(500, _("Erreur inattendue"),
                      _("Une erreur inattendue s'est produite. Réessayez plus tard."))
