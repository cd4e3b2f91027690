"""One request lifecycle: the app-wide hooks run by one before and one after hook.

Modules register their hooks with Flask as usual (`app.before_request`,
`app.after_request`, extensions too: Flask-WTF's CSRF check). At the end of create_app,
`init_app` takes the app-wide ones over and runs them, in Flask's own order, from a
single `before_request` and a single `after_request`:

- on browser pages, every hook;
- on the endpoints relying parties' servers call (`is_server_path`: token, userinfo,
  introspection, revocation, JWKS, discovery), only the hooks marked `@every_request`
  (the database commit, the security headers). Those requests carry no cookie, no form
  of ours, have no session (security/sessions.NoSession) and are never gated: the CSRF
  check, the store-outage check of the session, the language switch, the sign-in gate
  and the session index have nothing to do there.

Why: Flask calls each hook through its own machinery (`ensure_sync`, a coroutine check
per call), which cost a token request more than the hooks' work (bench/README.md,
"Counting instructions"). Blueprint hooks (the waiting room's on
`login`, the console's guard on `admin`) stay Flask's: they run on their pages only.
"""
from __future__ import annotations

from collections.abc import Callable
from inspect import iscoroutinefunction

from flask import Flask, request

# Exact paths (a route added beside them stays a browser page), and the documents under
# /.well-known/.
SERVER_PATHS = frozenset({"/oidc/token", "/oidc/userinfo", "/oidc/introspect",
                          "/oidc/revoke", "/oidc/jwks"})
WELL_KNOWN = "/.well-known/"
# Browser requests that never verify a password nor wait for one: the OIDC authorization
# and the SAML AuthnRequest (a signed-in family's single sign-on is answered at once, with
# a code or a signed response; anyone else is redirected to the sign-in page; a request
# over SAML's POST binding, which brings no cookie, is handed to /saml/sso/continue on the
# threaded pool). Browser pages: every hook runs on them.
SSO_PATHS = frozenset({"/oidc/authorize", "/saml/sso/redirect", "/saml/sso/post"})
# The paths a pool of sync workers of its own answers, as nginx locations (README "En
# production", "Two pools"; deploy/nginx/idp.conf; scripts/reverse_proxy.py): the
# servers' endpoints and the single sign-on, so a signed-in family's code flow (the
# authorization, then its RP's token request) stays on that pool.
NGINX_LOCATIONS = (*(f"= {path}" for path in sorted(SERVER_PATHS | SSO_PATHS)),
                   f"^~ {WELL_KNOWN}")
_EVERY_REQUEST = "idp_every_request"


def is_server_path(path: str) -> bool:
    return path in SERVER_PATHS or path.startswith(WELL_KNOWN)


def for_servers() -> bool:
    """True on an endpoint that answers relying parties' servers in JSON."""
    return is_server_path(request.path)


def every_request(hook: Callable) -> Callable:
    """Mark an app-wide hook that runs on the servers' endpoints too."""
    setattr(hook, _EVERY_REQUEST, True)
    return hook


def init_app(app: Flask) -> None:
    """Last in create_app: take over the app-wide hooks registered so far."""
    before = app.before_request_funcs.pop(None, [])
    after = app.after_request_funcs.pop(None, [])[::-1]  # Flask runs them last first
    coroutines = [hook for hook in before + after if iscoroutinefunction(hook)]
    if coroutines:
        raise TypeError(f"async hooks are not run by the request lifecycle: {coroutines}")
    servers_before = [hook for hook in before if getattr(hook, _EVERY_REQUEST, False)]
    servers_after = [hook for hook in after if getattr(hook, _EVERY_REQUEST, False)]

    def run_before():
        for hook in servers_before if for_servers() else before:
            answer = hook()
            if answer is not None:
                return answer
        return None

    def run_after(response):
        for hook in servers_after if for_servers() else after:
            response = hook(response)
        return response

    app.before_request_funcs[None] = [run_before]
    app.after_request_funcs[None] = [run_after]
