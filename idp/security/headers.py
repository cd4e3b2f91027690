"""HTTP security headers on every response."""
from __future__ import annotations

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


def init_app(app: Flask) -> None:
    fixed = baseline(app.config["ISSUER"].startswith("https://"))

    @app.after_request
    @every_request
    def add_headers(response):
        h = response.headers
        # Protocol endpoints post forms to relying parties (SAML POST binding, OIDC
        # form_post), so form-action must allow any https target on those pages only.
        extra = "https: http://127.0.0.1:* http://localhost:*" if request.endpoint and \
            request.endpoint.startswith(("saml.", "oidc.")) else ""
        if not extra and session.get("pending_origin"):
            # Step pages: their POST ends, after redirects, at the RP's verified origin.
            extra = session["pending_origin"]
        # An upstream identity provider (FranceConnect) is reached by the redirect that
        # follows a form (its button, « Se déconnecter »): its origin, when configured.
        upstream = app.config.get("CSP_FORM_ACTION_UPSTREAM")
        if upstream:
            extra = f"{extra} {upstream}".strip()
        # Headers.setdefault costs a KeyError per missing name (werkzeug builds one for
        # each lookup): the names present are read once, every response of the IdP pays it.
        present = {name.lower() for name, _ in h.items()}
        if "content-security-policy" not in present:
            h.add("Content-Security-Policy", CSP.format(extra=extra).strip())
        h.extend([(name, value) for name, value in fixed if name.lower() not in present])
        # Everything but static files is personal or protocol state: never cached.
        if request.endpoint != "static":
            h["Cache-Control"] = "no-store"
            if "pragma" not in present:
                h.add("Pragma", "no-cache")
        return response
