"""Error pages: our French page for every error, never a stack trace, never a redirect
to a target we have not verified."""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .store import StoreUnavailable

log = logging.getLogger(__name__)


def error_page(status: int, title: str, message: str):
    return render_template("errors/error.html", title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.before_request
    def store_was_unavailable():
        if request.environ.get("idp.store_unavailable"):
            raise StoreUnavailable("session store unreachable")

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_page(400, _("Formulaire expiré"),
                          _("Ce formulaire a expiré ou a déjà été envoyé. Revenez à la page "
                            "précédente, actualisez-la et recommencez."))

    @app.errorhandler(StoreUnavailable)
    def store_down(exc):
        log.error("store unavailable: %s", exc)
        return error_page(503, _("Service momentanément indisponible"),
                          _("Le service est momentanément indisponible. "
                            "Réessayez dans quelques minutes."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            404: (_("Page introuvable"), _("Cette page n'existe pas.")),
            405: (_("Action impossible"), _("Cette action n'est pas possible ici.")),
        }
        title, message = messages.get(exc.code, (_("Requête invalide"),
                                                 _("La demande n'a pas pu être traitée.")))
        return error_page(exc.code or 400, title, message)

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unexpected error")
        return error_page(500, _("Erreur inattendue"),
                          _("Une erreur inattendue s'est produite. Réessayez plus tard."))
