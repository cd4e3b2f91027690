"""Server-side sessions in the store.

The cookie holds only a random id; the data lives in the store with the idle timeout as
its TTL, plus an absolute deadline inside. `regenerate()` gives a new id at sign-in (the
old one is deleted), `destroy()` ends it at logout. The cookie is `__Host-` prefixed when
served over HTTPS (the prefix requires Secure), HttpOnly and SameSite=Lax.

The endpoints relying parties' servers call (request_lifecycle.is_server_path: token,
userinfo, JWKS...) get no session at all: they carry no cookie, nothing there may read or
write one, and Flask then skips the save (`NoSession`, its null session).
"""
from __future__ import annotations

import secrets
import time

from flask import request
from flask.sessions import NullSession, SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from ..request_lifecycle import is_server_path
from ..store import Store, StoreUnavailable


class NoSession(NullSession):
    """The session of the endpoints servers call: empty, and writing to it is a bug."""

    def _fail(self, *args, **kwargs):
        raise RuntimeError("the endpoints relying parties' servers call have no session")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, sid: str | None = None, data: dict | None = None, new: bool = False):
        def on_update(_self):
            _self.modified = True

        super().__init__(data or {}, on_update)
        self._sid = sid
        self.new = new
        self.modified = False
        self.regenerated_from: str | None = None
        self.destroyed = False

    @property
    def sid(self) -> str:
        """A new session's id is drawn when first needed: most requests without a session
        cookie never save one (the endpoints servers call have none: NoSession)."""
        if self._sid is None:
            self._sid = secrets.token_urlsafe(32)
        return self._sid

    @sid.setter
    def sid(self, value: str) -> None:
        self._sid = value

    def regenerate(self) -> None:
        """A fresh id for the same browser (prevents session fixation at sign-in)."""
        self.regenerated_from = self.regenerated_from or self.sid
        self.sid = secrets.token_urlsafe(32)
        self.modified = True

    def destroy(self) -> None:
        self.clear()
        self.destroyed = True
        self.modified = True


class StoreSessionInterface(SessionInterface):
    def __init__(self, store: Store, idle_seconds: int, absolute_seconds: int, secure: bool):
        self.store = store
        self.idle = idle_seconds
        self.absolute = absolute_seconds
        self.secure = secure
        self.cookie = "__Host-idp_session" if secure else "idp_session"

    null_session_class = NoSession

    def open_session(self, app, request):
        if is_server_path(request.path):
            return NoSession()
        sid = request.cookies.get(self.cookie)
        if sid and len(sid) < 100:
            try:
                data = self.store.get("sess:" + sid)
            except StoreUnavailable:
                # Flask opens the session before any handler runs: note the outage so
                # the first before_request hook answers 503 (see idp/errors.py).
                request.environ["idp.store_unavailable"] = True
                return ServerSession(new=True)
            if data is not None and data.get("_deadline", 0) > time.time():
                return ServerSession(sid, data)
        return ServerSession(new=True)

    def save_session(self, app, session: ServerSession, response):
        if request.environ.get("idp.store_unavailable"):
            return
        if session.regenerated_from:
            self.store.delete("sess:" + session.regenerated_from)
        if session.destroyed or (not session and not session.new and session.modified):
            self.store.delete("sess:" + session.sid)
            response.delete_cookie(self.cookie, path="/", secure=self.secure,
                                   httponly=True, samesite="Lax")
            return
        if not session:
            return
        now = time.time()
        data = dict(session)
        data.setdefault("_deadline", now + self.absolute)
        ttl = int(min(self.idle, data["_deadline"] - now))
        if ttl <= 0:
            return
        # The idle timeout slides, but an unchanged session is rewritten at most once a
        # minute (one store write saved on most requests).
        if not session.modified and not session.new and now - data.get("_touched", 0) < 60:
            return
        data["_touched"] = now
        # Save on every request: sliding idle timeout.
        try:
            self.store.set("sess:" + session.sid, data, ttl)
        except StoreUnavailable:
            return  # the response already tells the outage (503); no cookie for a lost session
        response.set_cookie(self.cookie, session.sid, max_age=None, path="/",
                            secure=self.secure, httponly=True, samesite="Lax")
        response.vary.add("Cookie")
