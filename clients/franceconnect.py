"""A FranceConnect stand-in for `make run` and the tests (issue 19): a small OpenID
Connect provider with FranceConnect v2's shapes, so the IdP's client is exercised over
real HTTP exactly as against the integration sandbox.

- discovery at /api/v2/.well-known/openid-configuration, /api/v2/authorize, /token
  (client_secret_post), /userinfo (a signed JWT, application/jwt), /jwks, /session/end;
- ID tokens and userinfo signed ES256 with a key made at start (kid published);
- `state` and `nonce` required, 32+ characters; `acr_values` must ask eidas1; codes
  single use (a replayed code answers invalid_grant), 60 s;
- a page to pick a test identity (the demo parent Nadia Benali; a presumed birth date;
  born abroad; born in Corsica; accented and hyphenated names in another case than the
  school's record), and "Annuler" (error=access_denied);
- failure switches (page /switches, or POST /switches mode=...): error500, timeout,
  garbage, malformed_id_token, wrong_acr, wrong_issuer, wrong_audience, unknown_key,
  wrong_nonce; "ok" puts things back.
- /logouts (JSON): the session/end calls received; /stats: discovery and JWKS fetches;
  POST /rotate: a new signing key (the old one leaves the JWKS), for the tests.

Run: `python -m clients.franceconnect --port 5004` (make run does it and configures the
IdP for it). Settings: FC_CLIENT_ID, FC_CLIENT_SECRET, FC_REDIRECT_PREFIX (the IdP's
URL: redirect and post-logout URIs must start with it), FC_SLOW_SECONDS (timeout mode).
"""
from __future__ import annotations

import argparse
import hashlib
import html
import os
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

DEFAULT_CLIENT_ID = "demo-idp"
DEFAULT_CLIENT_SECRET = "demo-franceconnect-secret-not-for-production"
MODES = ("ok", "error500", "timeout", "garbage", "malformed_id_token", "wrong_acr",
         "wrong_issuer", "wrong_audience", "unknown_key", "wrong_nonce")
CODE_SECONDS = 60

# Test identities (FranceConnect's pivot identity). The school records the demo holds:
# Nadia Benali, +33 6 12 34 56 78, children Yanis (12/10/2013) and Sarah (04/07/2010).
IDENTITIES = {
    "nadia": {"label": "Nadia Benali (parent de la démonstration)",
              "given_name": "Nadia", "family_name": "Benali", "birthdate": "1984-05-17",
              "gender": "female", "birthplace": "75056", "birthcountry": "99100",
              "email": "nadia.benali@example.org"},
    "presumed": {"label": "Date de naissance présumée (1er janvier)",
                 "given_name": "Sophie Anne", "family_name": "Martin",
                 "birthdate": "1981-01-01", "gender": "female", "birthplace": "69123",
                 "birthcountry": "99100", "email": "sophie.martin@example.org"},
    "abroad": {"label": "Né à l'étranger (Maroc)", "given_name": "Karim",
               "family_name": "Haddad", "birthdate": "1978-03-09", "gender": "male",
               "birthplace": "", "birthcountry": "99350", "email": "karim.haddad@example.org"},
    "corsica": {"label": "Née en Corse (Ajaccio, 2A004)", "given_name": "Marie-Ange",
                "family_name": "Santoni", "birthdate": "1985-11-30", "gender": "female",
                "birthplace": "2A004", "birthcountry": "99100",
                "email": "marie-ange.santoni@example.org"},
    "accents": {"label": "Noms accentués et composés, en majuscules",
                "given_name": "HÉLÈNE JOSÉPHINE", "family_name": "LE GALL-HERVÉ",
                "birthdate": "1982-08-21", "gender": "female", "birthplace": "29019",
                "birthcountry": "99100", "email": "helene.legall@example.org"},
}
CLAIMS = ("given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry",
          "email")

PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"""


class StandIn:
    """What the stand-in remembers (one process, in memory: it is a test double)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.key = ECKey.generate_key("P-256", parameters={"kid": secrets.token_hex(8)})
        self.rogue = ECKey.generate_key("P-256", parameters={"kid": secrets.token_hex(8)})
        self.mode = "ok"
        self.codes: dict[str, dict] = {}
        self.access: dict[str, dict] = {}
        self.logouts: list[dict] = []
        self.fetches = {"discovery": 0, "jwks": 0}

    def rotate(self) -> None:
        """A new signing key; the old one leaves the JWKS at once."""
        self.key = ECKey.generate_key("P-256", parameters={"kid": secrets.token_hex(8)})

    def take_code(self, code: str) -> dict | None:
        with self.lock:
            grant = self.codes.pop(code, None)
        if grant is None or grant["expires"] < time.time():
            return None
        return grant


def create_app(base_url: str, client_id: str, client_secret: str, redirect_prefix: str,
               slow_seconds: float = 10) -> Flask:
    app = Flask(__name__)
    fc = StandIn()
    app.extensions["franceconnect_standin"] = fc
    issuer = base_url.rstrip("/") + "/api/v2"

    def page(title: str, body: str, status: int = 200) -> Response:
        response = Response(PAGE.format(title=html.escape(title), body=body), status)
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; form-action 'self' " + redirect_prefix.rstrip("/")
            + "; frame-ancestors 'none'")
        return response

    def sub_for(key: str) -> str:
        # FranceConnect gives each service its own identifier for a person.
        return hashlib.sha256(f"{key}|{client_id}".encode()).hexdigest()

    def sign(claims: dict, mode: str) -> str:
        key = fc.rogue if mode == "unknown_key" else fc.key
        return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)

    def claims_for(grant: dict, mode: str) -> dict:
        now = int(time.time())
        return {"iss": issuer + "/other" if mode == "wrong_issuer" else issuer,
                "aud": "someone-else" if mode == "wrong_audience" else client_id,
                "sub": sub_for(grant["identity"]), "iat": now, "exp": now + 60}

    @app.get("/api/v2/.well-known/openid-configuration")
    def discovery():
        fc.fetches["discovery"] += 1
        return jsonify({
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "userinfo_endpoint": issuer + "/userinfo",
            "jwks_uri": issuer + "/jwks",
            "end_session_endpoint": issuer + "/session/end",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "scopes_supported": ["openid", *CLAIMS],
            "acr_values_supported": ["eidas1"],
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "userinfo_signing_alg_values_supported": ["ES256", "RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "subject_types_supported": ["public"],
            "claims_supported": ["sub", "acr", "amr", *CLAIMS],
        })

    @app.get("/api/v2/jwks")
    def jwks():
        fc.fetches["jwks"] += 1
        return jsonify(KeySet([fc.key]).as_dict(private=False))

    def refuse(message: str, status: int = 400) -> Response:
        return page("FranceConnect : requête refusée", f"<p>{html.escape(message)}</p>", status)

    @app.get("/api/v2/authorize")
    def authorize():
        args = request.args
        if args.get("client_id") != client_id:
            return refuse("client_id inconnu")
        if not (args.get("redirect_uri") or "").startswith(redirect_prefix):
            return refuse("redirect_uri non déclarée")
        if args.get("response_type") != "code" or "openid" not in (args.get("scope") or "").split():
            return refuse("response_type ou scope invalide")
        if len(args.get("state") or "") < 32 or len(args.get("nonce") or "") < 32:
            return refuse("state et nonce obligatoires, 32 caractères au moins")
        if "eidas1" not in (args.get("acr_values") or "").split():
            return refuse("acr_values doit demander eidas1")
        hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(args[k])}">'
                         for k in ("redirect_uri", "state", "nonce", "scope"))
        choices = "".join(
            f'<p><label><input type="radio" name="identity" value="{key}"'
            f'{" checked" if key == "nadia" else ""}> {html.escape(spec["label"])} : '
            f'{html.escape(spec["given_name"])} {html.escape(spec["family_name"])}, né(e) le '
            f'{spec["birthdate"]}</label></p>' for key, spec in IDENTITIES.items())
        body = (f'<p>Fournisseur de service : {html.escape(client_id)}. Choisissez une '
                f'identité de test (bouchon FranceConnect, mode « {fc.mode} »).</p>'
                f'<form method="post" action="{issuer}/interaction">{hidden}'
                f'<fieldset><legend>Identité</legend>{choices}</fieldset>'
                f'<button type="submit" name="action" value="continue">Continuer</button> '
                f'<button type="submit" name="action" value="cancel">Annuler</button></form>')
        return page("FranceConnect (bouchon de démonstration)", body)

    @app.post("/api/v2/interaction")
    def interaction():
        form = request.form
        target = form.get("redirect_uri") or ""
        if not target.startswith(redirect_prefix):
            return refuse("redirect_uri non déclarée")
        if form.get("action") == "cancel":
            query = {"error": "access_denied", "error_description": "annulé",
                     "state": form.get("state", "")}
            return redirect(target + "?" + urlencode(query), code=303)
        key = form.get("identity") if form.get("identity") in IDENTITIES else "nadia"
        code = secrets.token_urlsafe(32)
        with fc.lock:
            fc.codes[code] = {"identity": key, "nonce": form.get("nonce"),
                              "redirect_uri": target, "scope": form.get("scope", ""),
                              "expires": time.time() + CODE_SECONDS}
        return redirect(target + "?" + urlencode({"code": code, "state": form.get("state", "")}),
                        code=303)

    def oauth_error(error: str, status: int = 400) -> Response:
        response = jsonify(error=error)
        response.status_code = status
        return response

    @app.post("/api/v2/token")
    def token():
        mode = fc.mode
        if mode == "error500":
            return Response("Internal Server Error", 500)
        if mode == "timeout":
            time.sleep(slow_seconds)
        if mode == "garbage":
            return Response("<html>maintenance</html>", 200, content_type="text/html")
        form = request.form
        if form.get("client_id") != client_id or not secrets.compare_digest(
                form.get("client_secret", ""), client_secret):
            return oauth_error("invalid_client", 401)
        if form.get("grant_type") != "authorization_code":
            return oauth_error("unsupported_grant_type")
        grant = fc.take_code(form.get("code", ""))
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return oauth_error("invalid_grant")
        claims = claims_for(grant, mode)
        claims.update({"nonce": "x" * 43 if mode == "wrong_nonce" else grant["nonce"],
                       "acr": "eidas0" if mode == "wrong_acr" else "eidas1",
                       "amr": ["pwd"], "auth_time": claims["iat"]})
        id_token = "not-a.valid.jwt" if mode == "malformed_id_token" else sign(claims, mode)
        access = secrets.token_urlsafe(32)
        with fc.lock:
            fc.access[access] = {**grant, "mode": mode, "expires": time.time() + 60}
        return jsonify(access_token=access, token_type="Bearer", expires_in=60,
                       id_token=id_token, scope=grant["scope"])

    @app.get("/api/v2/userinfo")
    def userinfo():
        auth = request.headers.get("Authorization", "")
        grant = fc.access.get(auth[7:]) if auth.startswith("Bearer ") else None
        if grant is None or grant["expires"] < time.time():
            return oauth_error("invalid_token", 401)
        identity = IDENTITIES[grant["identity"]]
        scopes = set(grant["scope"].split())
        claims = claims_for(grant, grant["mode"])
        claims.update({k: identity[k] for k in CLAIMS if k in scopes})
        return Response(sign(claims, grant["mode"]), content_type="application/jwt")

    @app.get("/api/v2/session/end")
    def session_end():
        args = request.args
        try:
            hint = jwt.decode(args.get("id_token_hint", ""), KeySet([fc.key]))
        except (JoseError, ValueError):
            return refuse("id_token_hint invalide")
        target = args.get("post_logout_redirect_uri") or ""
        if not target.startswith(redirect_prefix) or not args.get("state"):
            return refuse("post_logout_redirect_uri ou state manquant")
        with fc.lock:
            fc.logouts.append({"sub": hint.claims.get("sub"), "state": args["state"],
                               "post_logout_redirect_uri": target})
        return redirect(target + ("&" if "?" in target else "?")
                        + urlencode({"state": args["state"]}), code=303)

    @app.get("/logouts")
    def logouts():
        return jsonify(fc.logouts)

    @app.get("/stats")
    def stats():
        return jsonify(fc.fetches)

    @app.post("/rotate")
    def rotate():
        fc.rotate()
        return jsonify(kid=fc.key.kid)

    @app.route("/switches", methods=["GET", "POST"])
    def switches():
        if request.method == "POST":
            mode = (request.get_json(silent=True) or {}).get("mode") or request.form.get("mode")
            if mode not in MODES:
                return oauth_error("unknown_mode")
            fc.mode = mode
            if request.is_json:
                return jsonify(mode=fc.mode)
        buttons = "".join(
            f'<button type="submit" name="mode" value="{m}">{m}'
            f'{" (actif)" if m == fc.mode else ""}</button> ' for m in MODES)
        return page("Bouchon FranceConnect : pannes",
                    f'<p>Mode actuel : <strong>{fc.mode}</strong></p>'
                    f'<form method="post">{buttons}</form>')

    @app.get("/")
    def index():
        return page("Bouchon FranceConnect",
                    f'<p>Découverte : <a href="{issuer}/.well-known/openid-configuration">'
                    f'{issuer}/.well-known/openid-configuration</a></p>'
                    '<p><a href="/switches">Simuler une panne</a></p>')

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Bouchon FranceConnect (OpenID Connect v2)")
    parser.add_argument("--port", type=int, default=5004)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    base_url = f"http://{args.host}:{args.port}"
    app = create_app(base_url, os.environ.get("FC_CLIENT_ID", DEFAULT_CLIENT_ID),
                     os.environ.get("FC_CLIENT_SECRET", DEFAULT_CLIENT_SECRET),
                     os.environ.get("FC_REDIRECT_PREFIX",
                                    os.environ.get("IDP_ISSUER", "http://127.0.0.1:5000")),
                     float(os.environ.get("FC_SLOW_SECONDS", "10")))
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
