"""How the sign-in form passes the waiting room (the pages: views.py; the rule:
security/admission.py).

- A POST of the sign-in form (`login.form`) gets a ticket (`g.signin_ticket`): the one of
  its held sign-in when the browser re-posts from the waiting page (F5 on the 503), a
  new one otherwise. Its first password verification takes a slot from the process's
  `Admission` through `passwords()` (security/admitted_passwords.py); the slot is freed
  when the request ends. A replayed hold asks for its slot first, before the login
  view looks the account up: a reload that waits on costs no database query.
- No slot in time: `SigninBusy` becomes the 503 waiting page, with Retry-After and a
  meta refresh to `/connexion/attente`; the sign-in is held (hold.py: the password
  sealed in the store, its key in an HttpOnly cookie).
- `/connexion/attente` with a live hold is replayed as the POST of the sign-in form it
  was (`ReplayHeldSignIn`, a WSGI middleware): the login journey's own view answers it
  (signed in, wrong password, throttled, deactivated, or the waiting page again), with
  the identifier typed and the pending RP request (in the session) kept.

Nothing here duplicates the sign-in: the login view and its service stay the only
place that checks a password and starts a session.
"""
from __future__ import annotations

import io
import secrets
from urllib.parse import urlencode

from flask import Flask, current_app, g, request

from ...errors import unavailable
from ...extensions import admission, store
from ...security.admission import SigninBusy
from ...security.client_address import client_key
from ...store import StoreUnavailable
from . import hold as holds
from .views import HELD_ENVIRON, SIGN_IN_PATH, WAITING_PATH, asks_pause, waiting_page


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
    parsed = holds.parse_cookie(request.cookies.get(holds.cookie_name(current_app.config)))
    if parsed is not None:
        typed = (request.form.get("identifier") or "").strip().lower()
        held = holds.held_identifier(store(), parsed[0])
        if held is not None and held.strip().lower() == typed:
            return parsed[0]
    return secrets.token_urlsafe(18)


def init_app(app: Flask) -> None:
    """Hook the sign-in form's requests: the replay of held sign-ins, their tickets, the
    slot freed at the request's end, and SigninBusy as the waiting page."""
    app.wsgi_app = ReplayHeldSignIn(app.wsgi_app, app)
    # The hooks run for the login blueprint's requests only (Flask's per-blueprint hook
    # lists): every other request of the IdP, the token endpoint's first, skips them.
    login = "login"

    def give_a_ticket():
        if request.endpoint == "login.form" and request.method == "POST" \
                and admission().enabled:
            g.signin_ticket = _ticket_for_this_sign_in()
            if request.environ.get(HELD_ENVIRON):
                # A held sign-in's reload: its place decides first, before the account is
                # looked up, so the many reloads of a storm that wait on cost no query.
                g.signin_release = admission().acquire(g.signin_ticket, client_key())

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
                    admission().leave(ticket)
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
