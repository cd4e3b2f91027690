"""Which language a page speaks: the one place that decides it (French by default,
English second; Babel and the pages' helpers: i18n.py).

- `select_locale()` (Babel's selector): `?lang=` on this request, else the session's
  language (chosen with the switch, or asked by the RP: `from_ui_locales`), else French;
  outside a request (CLI, worker) French: messages carry their own locale.
- `current_locale()`: this request's language, for messages queued during it.
"""
from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale


def select_locale() -> str:
    if not has_request_context():
        return "fr"
    wanted = request.args.get("lang") or session.get("locale")
    return wanted if wanted in current_app.config["LANGUAGES"] else "fr"


def current_locale() -> str:
    return str(get_locale() or "fr")


def from_ui_locales(ui_locales: str | None) -> None:
    """An RP's `ui_locales` (OpenID Connect: space-separated, by preference): the first
    language we speak becomes the session's."""
    for locale in (ui_locales or "").split():
        if locale[:2] in current_app.config["LANGUAGES"]:
            session["locale"] = locale[:2]
            return


def remember_choice() -> None:
    """`?lang=` (the switch) is the session's language from now on."""
    wanted = request.args.get("lang")
    if wanted in current_app.config["LANGUAGES"] and session.get("locale") != wanted:
        session["locale"] = wanted
