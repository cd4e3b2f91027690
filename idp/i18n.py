"""Languages: French by default, English as a second locale (translations/en). Which
language a page speaks is decided in languages.py; here, Babel and the pages' helpers.

- The catalogue lives at the project root (translations/), next to templates/.
- `language_url(code)`: the current page in another language (path and query kept), for
  the switch in the header; a POST page falls back to its GET form.
- The language a signed-in family chose (the switch, or the RP's `ui_locales`) becomes the
  account's language, so emails and SMS sent later (by the worker too) speak it.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request, session
from flask_babel import Babel

from .config import PROJECT_ROOT
from .languages import remember_choice, select_locale
from .journeys.wayf.service import speaks_to_a_pupil  # tu or vous, for the templates
from .signin.session import current_account


def language_url(code: str) -> str:
    """This page with ?lang=<code>, its other query parameters kept."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", code))
    return request.path + "?" + urlencode(args)


def _remember_for_account() -> None:
    if request.endpoint == "static" or not session.get("account_id"):
        return
    chosen = request.args.get("lang")
    if chosen not in current_app.config["LANGUAGES"]:
        chosen = session.get("locale")
    if not chosen:
        return
    account = current_account()
    if account is not None and account.locale != chosen:
        account.locale = chosen  # committed with the request (idp/db.py)


def init_app(app) -> None:
    """Babel with its catalogue and selector; the switch's helpers and hooks."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "translations"))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["language_url"] = language_url
    app.jinja_env.globals["speaks_to_a_pupil"] = speaks_to_a_pupil
    app.context_processor(lambda: {"current_locale": select_locale()})
    app.before_request(remember_choice)
    app.before_request(_remember_for_account)
