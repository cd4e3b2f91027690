"""The demo relying party shared by clients/ent.py and clients/pronote.py.

An OpenID Connect client built on Authlib's Flask integration: discovery from the IdP,
authorization code + PKCE S256 + nonce, `iss` checked on the way back (RFC 9207),
RP-initiated logout, and back-channel logout (OIDC Back-Channel Logout 1.0).

Sessions live in this process (a dict keyed by a random id kept in the signed Flask
cookie) so that a logout token arriving from the IdP, without any browser, can end them.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, Response, jsonify, redirect, render_template_string, request, session
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ISSUER = "http://127.0.0.1:5000"
DEFAULT_CLIENTS_FILE = PROJECT_ROOT / "var" / "demo_clients.json"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
SCOPE = "openid profile email education"
LOGOUT_TOKEN_MAX_AGE = 300  # seconds: an older logout token is refused (replay window)


@dataclass(frozen=True)
class Demo:
    """What makes one demo RP different from the other."""
    name: str          # key in the clients file, shown as the service name
    colour: str        # CSS colour of the header
    default_port: int
    tagline: str       # one French sentence under the title


class SessionStore:
    """Signed-in browsers of this RP: random id -> {sub, sid, id_token, claims, csrf}."""

    def __init__(self):
        self._lock = threading.Lock()  # the dev server is threaded
        self._sessions: dict[str, dict] = {}
        self._seen_jti: dict[str, float] = {}

    def create(self, data: dict) -> str:
        key = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[key] = dict(data, csrf=secrets.token_urlsafe(32))
        return key

    def get(self, key: str | None) -> dict | None:
        with self._lock:
            return self._sessions.get(key) if key else None

    def drop(self, key: str | None) -> None:
        with self._lock:
            self._sessions.pop(key or "", None)

    def end_for(self, sid: str | None, sub: str | None) -> int:
        """End the sessions of an IdP session (sid), or of a person (sub) if no sid."""
        with self._lock:
            doomed = [k for k, v in self._sessions.items()
                      if (sid and v.get("sid") == sid) or (not sid and v.get("sub") == sub)]
            for key in doomed:
                del self._sessions[key]
            return len(doomed)

    def first_use_of(self, jti: str) -> bool:
        """True once per logout token id within the replay window."""
        now = time.time()
        with self._lock:
            self._seen_jti = {j: t for j, t in self._seen_jti.items()
                              if t > now - 2 * LOGOUT_TOKEN_MAX_AGE}
            if jti in self._seen_jti:
                return False
            self._seen_jti[jti] = now
            return True


class LogoutTokenError(ValueError):
    """A logout token this RP will not act on."""


def check_logout_claims(claims: dict, *, issuer: str, client_id: str,
                        now: float | None = None) -> None:
    """The checks of OIDC Back-Channel Logout 1.0 section 2.6 (after the signature)."""
    now = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise LogoutTokenError("wrong issuer")
    aud = claims.get("aud")
    if client_id not in (aud if isinstance(aud, list) else [aud]):
        raise LogoutTokenError("not for this client")
    iat = claims.get("iat")
    if not isinstance(iat, (int, float)) or not now - LOGOUT_TOKEN_MAX_AGE <= iat <= now + 60:
        raise LogoutTokenError("iat missing or not recent")
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, (int, float)) or exp < now - 60):
        raise LogoutTokenError("expired")
    events = claims.get("events")
    if not isinstance(events, dict) or LOGOUT_EVENT not in events:
        raise LogoutTokenError("no back-channel logout event")
    if "nonce" in claims:
        raise LogoutTokenError("a logout token never carries a nonce")
    if not claims.get("sid") and not claims.get("sub"):
        raise LogoutTokenError("neither sid nor sub")


def load_clients(path: str | os.PathLike) -> dict:
    """The clients file written by `idp demo load` (name -> client_id, secret, url...)."""
    return json.loads(Path(path).read_text())


def create_app(demo: Demo, registration: dict, issuer: str, others: list[dict]) -> Flask:
    """One demo RP. `registration` is its entry of the clients file, `others` the
    entries of the other demo RPs (linked from the home page to show SSO)."""
    app = Flask(demo.name.lower())
    app.config.update(
        SECRET_KEY=secrets.token_urlsafe(32),  # sessions die with the process anyway
        # Every demo RP and the IdP share the host 127.0.0.1, and cookies ignore ports:
        # each RP needs its own cookie name or they would overwrite each other.
        SESSION_COOKIE_NAME=f"{demo.name.lower()}_rp",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True)
    issuer = issuer.rstrip("/")
    base_url = registration["url"].rstrip("/")
    client_id = registration["client_id"]
    sessions = SessionStore()
    app.extensions["demo_sessions"] = sessions
    oauth = OAuth(app)
    idp = oauth.register(
        "idp", client_id=client_id, client_secret=registration["client_secret"],
        server_metadata_url=issuer + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256",
                       "token_endpoint_auth_method": registration["token_auth_method"],
                       "timeout": 10})

    def render(template: str, status: int = 200, **context):
        html = render_template_string(template, demo=demo, others=others, **context)
        return Response(html, status, content_type="text/html; charset=utf-8")

    def current() -> dict | None:
        return sessions.get(session.get("rp"))

    @app.after_request
    def headers(response):
        idp_origin = "{0.scheme}://{0.netloc}".format(urlsplit(issuer))
        # No inline script or style at all; the logout form ends in a redirect to the IdP,
        # which form-action must allow (browsers check it on redirects too).
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
            f"form-action 'self' {idp_origin}; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.endpoint != "style":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/style.css")
    def style():
        return Response(render_template_string(CSS, demo=demo), content_type="text/css")

    @app.get("/")
    def home():
        message = None
        if request.args.get("state"):  # back from RP-initiated logout at the IdP
            try:
                idp.validate_logout_response()
                message = "Votre session est fermée dans ce service et dans Connexion Scolarité."
            except OAuthError:
                message = "Retour de déconnexion inattendu : il a été ignoré."
        return render(HOME, user=current(), message=message)

    @app.get("/login")
    def login():
        try:
            return idp.authorize_redirect(base_url + "/callback")
        except requests.RequestException:  # discovery failed: the IdP is not running
            return render(ERROR, 503, reason="Connexion Scolarité ne répond pas")

    @app.get("/callback")
    def callback():
        # RFC 9207: the IdP says it sends `iss`; without it, or with another one, the
        # response may come from a mix-up attack and is dropped, error or not.
        expected = idp.load_server_metadata().get("issuer")
        if request.args.get("iss") != expected:
            return render(ERROR, 400, reason="réponse d'un autre fournisseur d'identité")
        if request.args.get("error"):
            return render(ERROR, 400, reason=request.args.get("error"))
        try:
            token = idp.authorize_access_token()
            claims = dict(token.get("userinfo") or {})
            claims.update(idp.userinfo(token=token))
        except (OAuthError, JoseError, ValueError, requests.RequestException) as exc:
            return render(ERROR, 400, reason=getattr(exc, "error", None) or str(exc))
        sessions.drop(session.get("rp"))
        # A fresh random id at each sign-in: no session fixation through the cookie.
        session["rp"] = sessions.create({
            "sub": claims.get("sub"), "sid": (token.get("userinfo") or {}).get("sid"),
            "id_token": token.get("id_token"), "claims": claims})
        return redirect("/")

    @app.post("/logout")
    def logout():
        user = current()
        if user is None:
            return redirect("/")
        if not secrets.compare_digest(request.form.get("csrf", ""), user["csrf"]):
            return render(ERROR, 400, reason="formulaire expiré")
        sessions.drop(session.pop("rp", None))
        return idp.logout_redirect(post_logout_redirect_uri=base_url + "/",
                                   id_token_hint=user["id_token"])

    @app.post("/backchannel-logout")
    def backchannel_logout():
        try:
            claims = _verify_logout_token(idp, request.form.get("logout_token", ""))
            check_logout_claims(claims, issuer=idp.load_server_metadata().get("issuer"),
                                client_id=client_id)
            if claims.get("jti") and not sessions.first_use_of(claims["jti"]):
                raise LogoutTokenError("replayed")
        except (JoseError, ValueError, requests.RequestException) as exc:
            response = jsonify(error="invalid_request", error_description=str(exc))
            response.status_code = 400
            return response
        sessions.end_for(claims.get("sid"), claims.get("sub"))
        return Response(status=200)

    return app


def _verify_logout_token(idp, token: str) -> dict:
    """Signature with the IdP's JWKS (fetched again once if the key id is new)."""
    if not token:
        raise LogoutTokenError("no logout_token")
    algorithms = ["RS256", "ES256"]
    try:
        decoded = jwt.decode(token, KeySet.import_key_set(idp.fetch_jwk_set()),
                             algorithms=algorithms)
    except InvalidKeyIdError:
        decoded = jwt.decode(token, KeySet.import_key_set(idp.fetch_jwk_set(force=True)),
                             algorithms=algorithms)
    return dict(decoded.claims)


def main(demo: Demo, argv: list[str] | None = None) -> None:
    """`python -m clients.<name> --port N [--clients-file F]`."""
    parser = argparse.ArgumentParser(description=f"Démonstration {demo.name} (OpenID Connect)")
    parser.add_argument("--port", type=int, default=demo.default_port)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--clients-file",
                        default=os.environ.get("DEMO_CLIENTS_FILE", str(DEFAULT_CLIENTS_FILE)))
    args = parser.parse_args(argv)
    issuer = os.environ.get("IDP_ISSUER", DEFAULT_ISSUER)
    try:
        clients = load_clients(args.clients_file)
        registration = clients[demo.name]
    except (OSError, ValueError, KeyError):
        sys.exit(f"{demo.name} : client introuvable dans {args.clients_file} "
                 "(lancez d'abord `idp demo load`).")
    if urlsplit(registration["url"]).port != args.port:
        print(f"attention : {demo.name} est enregistré à {registration['url']} "
              f"mais écoute sur le port {args.port}", file=sys.stderr)
    others = [c for name, c in sorted(clients.items()) if name != demo.name]
    app = create_app(demo, registration, issuer, others)
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)


# Pages: Jinja strings (autoescaped), no inline script or style so the CSP stays strict.
_LAYOUT_TOP = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ demo.name }} · démonstration</title><link rel="stylesheet" href="/style.css"></head>
<body><header><p class="brand">{{ demo.name }}</p><p>{{ demo.tagline }}</p></header><main>"""
_LAYOUT_END = "</main></body></html>"

HOME = _LAYOUT_TOP + """
{% if message %}<p class="notice" role="status">{{ message }}</p>{% endif %}
{% if user %}{% set c = user.claims %}
<h1>Bonjour {{ c.name or c.preferred_username or "" }}</h1>
<dl>
  <dt>Identifiant</dt><dd>{{ c.preferred_username or "—" }}</dd>
  <dt>Profil</dt><dd>{{ {"parent": "Représentant légal", "pupil": "Élève"}.get(c.profile, c.profile or "—") }}</dd>
  <dt>Affiliation</dt><dd>{{ c.affiliation or "—" }}</dd>
  <dt>Établissement</dt><dd>{{ c.school_name or "" }} {% if c.school_uai %}(UAI {{ c.school_uai }}){% endif %}</dd>
  {% if c["class"] %}<dt>Classe</dt><dd>{{ c["class"] }}</dd>{% endif %}
  <dt>Identifiant pour ce service</dt><dd><code>{{ c.sub }}</code></dd>
</dl>
{% if c.pupils %}<h2>Élèves rattachés</h2><ul class="pupils">
  {% for p in c.pupils %}<li>{{ p.given_name }} {{ p.family_name }}{% if p["class"] %}, {{ p["class"] }}{% endif %}{% if p.school_uai %} (UAI {{ p.school_uai }}){% endif %}</li>{% endfor %}
</ul>{% endif %}
{% for o in others %}<p><a class="button secondary" href="{{ o.url }}/">Ouvrir {{ o.name }}</a></p>{% endfor %}
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{ user.csrf }}">
<button type="submit" class="button">Se déconnecter</button></form>
{% else %}
<h1>Bienvenue sur {{ demo.name }}</h1>
<p>Aucune session n'est ouverte.</p>
<form method="get" action="/login"><button type="submit" class="button">Se connecter avec Connexion Scolarité</button></form>
{% endif %}""" + _LAYOUT_END

ERROR = _LAYOUT_TOP + """<h1>La connexion a échoué</h1>
<p>Connexion Scolarité n'a pas pu vous connecter à {{ demo.name }} ({{ reason }}).</p>
<p><a class="button" href="/">Revenir à l'accueil</a></p>""" + _LAYOUT_END

CSS = """body{font-family:system-ui,sans-serif;margin:0;color:#1e1e1e;line-height:1.5}
header{background:{{ demo.colour }};color:#fff;padding:1rem 1.5rem}
header p{margin:0}.brand{font-size:1.6rem;font-weight:bold}
main{max-width:40rem;margin:1.5rem auto;padding:0 1rem}
dt{font-weight:bold}dd{margin:0 0 .5rem 0}
.button{display:inline-block;background:{{ demo.colour }};color:#fff;border:0;padding:.7rem 1.2rem;
font-size:1rem;border-radius:.3rem;text-decoration:none;cursor:pointer}
.button.secondary{background:#fff;color:{{ demo.colour }};border:2px solid {{ demo.colour }}}
.button:focus{outline:3px solid #ffbf47;outline-offset:2px}
.notice{background:#e8f4ea;border-left:4px solid #18753c;padding:.7rem}
"""
