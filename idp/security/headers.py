"""HTTP security headers on every response."""
from __future__ import annotations

from functools import lru_cache

from flask import Flask, request, session

from ..request_lifecycle import every_request

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' {extra}")


def baseline(https: bool) -> list[tuple[str, str]]:
    """Headers every response carries, whatever its page."""
    fixed = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
             ("X-Frame-Options", "DENY")]
    if https:
        fixed.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return fixed


# Protocol endpoints post forms to relying parties (SAML POST binding, OIDC form_post), so
# form-action allows any https target on those pages only.
PROTOCOL_TARGETS = "https: http://127.0.0.1:* http://localhost:*"
NEVER_CACHED = [("cache-control", "Cache-Control", "no-store"), ("pragma", "Pragma", "no-cache")]


@lru_cache(maxsize=256)
def policy(extra: str, upstream: str | None) -> str:
    """The Content-Security-Policy for a page whose forms may end at `extra` (and at the
    upstream identity provider's origin, when one is configured)."""
    if upstream:
        extra = f"{extra} {upstream}".strip()
    return CSP.format(extra=extra).strip()


def init_app(app: Flask) -> None:
    fixed = [(name.lower(), name, value)
             for name, value in baseline(app.config["ISSUER"].startswith("https://"))]

    @app.after_request
    @every_request
    def add_headers(response):
        h = response.headers
        endpoint = request.endpoint
        if endpoint and endpoint.startswith(("saml.", "oidc.")):
            extra = PROTOCOL_TARGETS
        else:
            # Step pages: their POST ends, after redirects, at the RP's verified origin.
            extra = session.get("pending_origin") or ""
        # An upstream identity provider (FranceConnect) is reached by the redirect that
        # follows a form (its button, « Se déconnecter »): its origin, when configured.
        csp = policy(extra, app.config.get("CSP_FORM_ACTION_UPSTREAM"))
        # Headers.setdefault costs a KeyError per missing name (werkzeug builds one for
        # each lookup), and each add() checks its value: the names present are read once
        # and what is missing is added in one extend(). Every response of the IdP pays it.
        present = {name.lower() for name, _ in h.items()}
        missing = [(name, value) for lower, name, value in fixed if lower not in present]
        if "content-security-policy" not in present:
            missing.append(("Content-Security-Policy", csp))
        # Everything but static files is personal or protocol state: never cached.
        if endpoint != "static":
            if "cache-control" in present and h.get("Cache-Control") != "no-store":
                h["Cache-Control"] = "no-store"
            missing.extend((name, value) for lower, name, value in NEVER_CACHED
                           if lower not in present)
        h.extend(missing)
        return response
