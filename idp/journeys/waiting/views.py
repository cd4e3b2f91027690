"""The waiting page of a sign-in storm (how the sign-in form passes the waiting room:
hooks.py; the rule itself: security/admission.py).

- `waiting_page`: the 503 with Retry-After and a meta refresh to `/connexion/attente`,
  which hooks.py replays as the held sign-in's POST.
- `/connexion/attente` without a live hold: the wait expired (or was answered in another
  tab); the form again, with the identifier.
- `/connexion/attente?pause=1` (the page's « Arrêter le rechargement automatique » link,
  WCAG 2.2.1: a time limit the visitor can turn off, without JavaScript) is never
  replayed: it answers the same wait without the meta refresh, the hold kept, and a
  link to go on when the family is ready.
"""
from __future__ import annotations

from urllib.parse import parse_qs

from flask import (Blueprint, current_app, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_babel import ngettext

from ...extensions import store
from ...security.admission import SigninBusy
from ...signin.gate import allow
from ...signin.steps import step_page
from ..login.forms import LoginForm
from ..wayf.service import current_choice, for_a_pupil
from . import hold as holds

bp = Blueprint("waiting", __name__)
allow("waiting.expired")

WAITING_PATH = "/connexion/attente"
SIGN_IN_PATH = "/connexion"
HELD_ENVIRON = "idp.held_signin"


def asks_pause(query_string: str) -> bool:
    """`?pause=1`: the wait without its automatic reload, never replayed."""
    return parse_qs(query_string).get("pause") == ["1"]


def request_config():
    return current_app.config


def waiting_page(busy: SigninBusy, identifier: str):
    """The 503 page that keeps the family's place and retries by itself."""
    choice = current_choice()
    pupil = for_a_pupil(choice)
    seconds = busy.retry_after
    if busy.full and pupil:
        message = ngettext(
            "Beaucoup d'élèves et de familles se connectent en ce moment et la file d'attente "
            "est pleine : la page essaiera de nouveau de te connecter dans %(num)d seconde.",
            "Beaucoup d'élèves et de familles se connectent en ce moment et la file d'attente "
            "est pleine : la page essaiera de nouveau de te connecter dans %(num)d secondes.",
            seconds)
    elif busy.full:
        message = ngettext(
            "Beaucoup de familles se connectent en ce moment et la file d'attente est "
            "pleine : la page essaiera de nouveau de vous connecter dans %(num)d seconde.",
            "Beaucoup de familles se connectent en ce moment et la file d'attente est "
            "pleine : la page essaiera de nouveau de vous connecter dans %(num)d secondes.",
            seconds)
    elif pupil:
        message = ngettext(
            "Beaucoup d'élèves et de familles se connectent en ce moment : nous gardons ta "
            "place, la page se recharge dans %(num)d seconde.",
            "Beaucoup d'élèves et de familles se connectent en ce moment : nous gardons ta "
            "place, la page se recharge dans %(num)d secondes.", seconds)
    else:
        message = ngettext(
            "Beaucoup de familles se connectent en ce moment : nous gardons votre place, "
            "la page se recharge dans %(num)d seconde.",
            "Beaucoup de familles se connectent en ce moment : nous gardons votre place, "
            "la page se recharge dans %(num)d secondes.", seconds)
    ahead = busy.position
    if ahead is None:
        place = None
    elif pupil:
        place = ngettext("%(num)d personne attend avant toi.",
                         "%(num)d personnes attendent avant toi.", ahead) if ahead else \
            _("Tu es le prochain ou la prochaine.")
    else:
        place = ngettext("%(num)d personne attend avant vous.",
                         "%(num)d personnes attendent avant vous.", ahead) if ahead else \
            _("Vous êtes la prochaine personne.")
    response = make_response(render_template(
        "waiting/waiting.html", message=message, place=place, identifier=identifier,
        seconds=seconds, pupil=pupil, retry_url=url_for("waiting.expired"),
        pause_url=url_for("waiting.expired", pause=1)), 503)
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(WAITING_PATH)
@step_page("login", on_demand=lambda ctx: True)
def expired(ctx):
    """Reached when no live hold was replayed: the wait expired (or was answered in
    another tab). The form again, with a word; signed in already: carry on. With
    ?pause=1 and the hold's cookie: the wait without its automatic reload."""
    if ctx.account is not None and not request.cookies.get(holds.cookie_name(request_config())):
        return redirect(url_for("signin.resume"))
    parsed = holds.parse_cookie(request.cookies.get(holds.cookie_name(request_config())))
    if parsed is not None and asks_pause(request.query_string.decode("latin-1")):
        return paused_page(ctx, parsed[0])
    form = LoginForm(formdata=None)
    if parsed is not None:
        form.identifier.data = holds.last_identifier(store(), parsed[0])
    response = make_response(render_template(
        "waiting/expired.html", form=form, choice=current_choice(ctx), pending=ctx.pending),
        200)
    response.delete_cookie(holds.cookie_name(request_config()), path="/")
    return response


def paused_page(ctx, ticket: str):
    """The wait with the automatic reload turned off: the hold stays (until it expires,
    SIGNIN_HOLD_MINUTES after the first try); « Reprendre » replays it."""
    minutes = max(1, holds.hold_seconds(request_config()) // 60)
    response = make_response(render_template(
        "waiting/paused.html", identifier=holds.last_identifier(store(), ticket),
        pupil=for_a_pupil(current_choice(ctx)), minutes=minutes,
        retry_url=url_for("waiting.expired")), 200)
    response.headers["Cache-Control"] = "no-store"
    return response
