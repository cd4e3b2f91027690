"""The waiting page of a sign-in storm, and how the sign-in form passes the waiting room.

- A POST of the sign-in form (`login.form`) gets a ticket (`g.signin_ticket`): the one of
  its held sign-in when the browser re-posts from the waiting page (F5 on the 503), a
  new one otherwise. Its first password verification takes a slot from the process's
  `Admission` (security/admission.py) through `AdmittedPasswords`; the slot is freed
  when the request ends. A replayed hold asks for its slot first, before the login
  view looks the account up: a reload that waits on costs no database query.
- No slot in time: `SigninBusy` becomes the 503 waiting page, with Retry-After and a
  meta refresh to `/connexion/attente`; the sign-in is held (hold.py: the password
  sealed in the store, its key in an HttpOnly cookie).
- `/connexion/attente` with a live hold is replayed as the POST of the sign-in form it
  was (`ReplayHeldSignIn`, a WSGI middleware): the login journey's own view answers it
  (signed in, wrong password, throttled, deactivated, or the waiting page again), with
  the identifier typed and the pending RP request (in the session) kept. Without a live
  hold the page says the wait expired and shows the form with the identifier.
- `/connexion/attente?pause=1` (the page's « Arrêter le rechargement automatique » link,
  WCAG 2.2.1: a time limit the visitor can turn off, without JavaScript) is never
  replayed: it answers the same wait without the meta refresh, the hold kept, and a
  link to go on when the family is ready.

Nothing here duplicates the sign-in: the login view and its service stay the only
place that checks a password and starts a session.
"""
from __future__ import annotations

import io
import secrets
from urllib.parse import parse_qs, urlencode

from flask import (Blueprint, Flask, current_app, g, has_request_context, make_response,
                   redirect, render_template, request, url_for)
from flask_babel import gettext as _
from flask_babel import ngettext

from ...errors import unavailable
from ...extensions import store
from ...security.admission import Admission, SigninBusy
from ...signin.gate import allow
from ...signin.steps import step_page
from ...store import StoreUnavailable
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


class AdmittedPasswords:
    """The passwords service, with the waiting room in front of its verifications during
    a sign-in (a request that has a ticket); every other use passes straight through."""

    def __init__(self, passwords, admission: Admission):
        self._passwords = passwords
        self._admission = admission

    def verify(self, stored_hash, password) -> bool:
        if has_request_context() and g.get("signin_ticket") and "signin_release" not in g:
            g.signin_release = self._admission.acquire(g.signin_ticket,
                                                       request.remote_addr or "-")
        if has_request_context() and "signin_release" in g:  # low-priority threads
            return self._admission.run(self._passwords.verify, stored_hash, password,
                                       admitted=g.signin_release)
        return self._passwords.verify(stored_hash, password)

    def __getattr__(self, name):
        return getattr(self._passwords, name)


class ReplayHeldSignIn:
    """WSGI middleware: GET /connexion/attente, with the cookie of a live hold, becomes
    the POST /connexion the family sent (identifier, password, CSRF token). Anything
    else passes unchanged; a store outage is handed to the app as one (503)."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == WAITING_PATH and environ.get("REQUEST_METHOD") == "GET" \
                and not asks_pause(environ.get("QUERY_STRING", "")):
            self._replay(environ)
        return self.wsgi_app(environ, start_response)

    def _replay(self, environ) -> None:
        from werkzeug.http import parse_cookie

        raw = parse_cookie(environ.get("HTTP_COOKIE", "")).get(
            holds.cookie_name(self.app.config))
        parsed = holds.parse_cookie(raw)
        if parsed is None:
            return
        ticket, key = parsed
        try:
            held = holds.open_hold(self.app.extensions["idp"]["store"], ticket, key)
        except StoreUnavailable:
            environ["idp.store_unavailable"] = True
            return
        if held is None:
            return
        body = urlencode({"csrf_token": held["csrf_token"], "identifier": held["identifier"],
                          "password": held["password"]}).encode()
        environ.update({
            "REQUEST_METHOD": "POST", "PATH_INFO": SIGN_IN_PATH, "QUERY_STRING": "",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
            HELD_ENVIRON: ticket})


def _ticket_for_this_sign_in() -> str:
    """The held sign-in's ticket (replayed, or re-posted from the waiting page for the
    same identifier: it keeps its place), else a new one."""
    replayed = request.environ.get(HELD_ENVIRON)
    if replayed:
        return replayed
    parsed = holds.parse_cookie(request.cookies.get(holds.cookie_name(request_config())))
    if parsed is not None:
        typed = (request.form.get("identifier") or "").strip().lower()
        held = holds.held_identifier(store(), parsed[0])
        if held is not None and held.strip().lower() == typed:
            return parsed[0]
    return secrets.token_urlsafe(18)


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


def init_app(app: Flask) -> None:
    """Build the process's Admission, put it in front of the passwords service, and
    hook the sign-in form's requests."""
    app.register_blueprint(bp)
    ext = app.extensions["idp"]
    ext["admission"] = Admission.from_config(ext["store"], app.config)
    ext["passwords"] = AdmittedPasswords(ext["passwords"], ext["admission"])
    app.wsgi_app = ReplayHeldSignIn(app.wsgi_app, app)
    # The hooks run for the login blueprint's requests only (Flask's per-blueprint hook
    # lists): every other request of the IdP, the token endpoint's first, skips them.
    login = "login"

    def give_a_ticket():
        if request.endpoint == "login.form" and request.method == "POST" \
                and ext["admission"].enabled:
            g.signin_ticket = _ticket_for_this_sign_in()
            if request.environ.get(HELD_ENVIRON):
                # A held sign-in's reload: its place decides first, before the account is
                # looked up, so the many reloads of a storm that wait on cost no query.
                g.signin_release = ext["admission"].acquire(g.signin_ticket,
                                                            request.remote_addr or "-")

    def free_the_slot(exc):
        release = g.pop("signin_release", None)
        if release is not None:
            release()

    def answered(response):
        ticket = g.get("signin_ticket")
        if ticket and response.status_code != 503:
            name = holds.cookie_name(app.config)
            if request.cookies.get(name) or request.environ.get(HELD_ENVIRON):
                try:
                    holds.forget(store(), ticket)
                    store().queue_leave("signin", ticket)
                except StoreUnavailable:
                    pass  # the hold expires by itself
                response.delete_cookie(name, path="/")
        return response

    app.before_request_funcs.setdefault(login, []).append(give_a_ticket)
    app.after_request_funcs.setdefault(login, []).append(answered)
    app.teardown_request_funcs.setdefault(login, []).append(free_the_slot)

    @app.errorhandler(SigninBusy)
    def busy(exc: SigninBusy):
        identifier = (request.form.get("identifier") or "").strip()
        response = waiting_page(exc, identifier)
        if request.environ.get(HELD_ENVIRON) == exc.ticket:
            return response  # a replayed hold waits on: it and its cookie stay as they are
        if request.endpoint == "login.form" and request.method == "POST":
            try:
                cookie = holds.hold(store(), app.config, exc.ticket, identifier,
                                    request.form.get("password") or "",
                                    request.form.get("csrf_token"))
            except StoreUnavailable:
                return unavailable()  # the store's 503 page: nothing held, nothing lost
            response.set_cookie(holds.cookie_name(app.config), cookie,
                                max_age=holds.hold_seconds(app.config), path="/",
                                secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
                                httponly=True, samesite="Strict")
        return response
