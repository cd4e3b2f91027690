"""Demo SAML service provider « Téléservices »: `python -m clients.teleservices --port 5003`.

A small Flask app using pysaml2 as an SP, with the IdP's in-process crypto backend (no
xmlsec1): AuthnRequests signed over HTTP-Redirect, the Response's assertion signature
checked and the assertion decrypted, the attributes received shown on the page, and
single logout both ways: its own (a signed LogoutRequest, the LogoutResponse checked) and
the IdP's (a LogoutRequest, its signature required, ends the local sessions of that NameID
and is answered with a signed LogoutResponse). Its key, certificate and metadata live
under var/teleservices/; `idp demo load` registers that metadata.

Sessions live in this process (a dict keyed by a random id in the signed cookie), like
the OIDC demos. Signed in at the ENT (OIDC) first, a family reaches Téléservices without
typing its password again.
"""
from __future__ import annotations

import argparse
import os
import secrets
import threading
import time
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import requests
from flask import Flask, Response, abort, redirect, request, session

from idp.saml import crypto_backend
from idp.keys.material import new_private_key, private_pem, self_signed_certificate

crypto_backend.install()  # before any pysaml2 entity is built

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT  # noqa: E402
from saml2.client import Saml2Client  # noqa: E402
from saml2.config import SPConfig  # noqa: E402
from saml2.metadata import create_metadata_string  # noqa: E402
from saml2.request import LogoutRequest  # noqa: E402
from saml2.saml import NAMEID_FORMAT_PERSISTENT  # noqa: E402
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    """Where the SP keeps its key, certificate and the IdP metadata (TELESERVICES_DIR)."""
    return Path(os.environ.get("TELESERVICES_DIR", PROJECT_ROOT / "var" / "teleservices"))

ALGS = {"signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256}
CSS = ("body{font-family:system-ui,sans-serif;margin:0;color:#161616}"
       "header{background:#000091;color:#fff;padding:1rem 2rem}main{padding:1rem 2rem;max-width:60rem}"
       "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;"
       "overflow-wrap:anywhere}code{overflow-wrap:anywhere}"
       "@media (max-width:40rem){header,main{padding:1rem}}"
       "button{font-size:1rem;padding:.5rem 1rem}")


def sp_config(url: str, idp_metadata_file: Path | None = None) -> SPConfig:
    """The SP's pysaml2 configuration (its key and certificate created if missing)."""
    key, cert = (str(p) for p in _key_paths())
    conf = {
        "entityid": url + "/metadata", "key_file": key, "cert_file": cert,
        "encryption_keypairs": [{"key_file": key, "cert_file": cert}],
        **ALGS,
        "service": {"sp": {
            **ALGS, "name": "Téléservices (démonstration)",
            "endpoints": {"assertion_consumer_service": [(url + "/acs", BINDING_HTTP_POST)],
                          "single_logout_service": [(url + "/slo", BINDING_HTTP_REDIRECT)]},
            "authn_requests_signed": True, "logout_requests_signed": True,
            "want_assertions_signed": True, "want_response_signed": False,
            "allow_unsolicited": False, "name_id_format": [NAMEID_FORMAT_PERSISTENT],
        }},
    }
    if idp_metadata_file is not None:
        conf["metadata"] = {"local": [str(idp_metadata_file)]}
    return SPConfig().load(conf)


def _key_paths() -> tuple[Path, Path]:
    """The SP's key and self-signed certificate, made once (the key file 0600)."""
    base = state_dir() / "saml"
    key_path, cert_path = base / "idp-signing.key", base / "idp-signing.crt"  # as before
    if not (key_path.exists() and cert_path.exists()):
        base.mkdir(parents=True, exist_ok=True)
        key = new_private_key("RS256")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(private_pem(key))
        cert_path.write_text(self_signed_certificate(key, "Teleservices demo SP"))
    return key_path, cert_path


def sp_metadata(url: str) -> str:
    """The SP metadata `idp demo load` registers."""
    xml = create_metadata_string(None, config=sp_config(url))
    return xml.decode() if isinstance(xml, bytes) else xml


class Teleservices:
    """The SP client (built when first needed: the IdP may start after this app)."""

    def __init__(self, url: str, issuer: str):
        self.url, self.issuer = url, issuer
        self._client: Saml2Client | None = None
        self._lock = threading.Lock()
        self.sessions: dict[str, dict] = {}
        self.outstanding: dict[str, float] = {}  # AuthnRequest id -> time sent

    def client(self) -> Saml2Client:
        with self._lock:
            if self._client is None:
                metadata = requests.get(self.issuer + "/saml/metadata", timeout=10)
                metadata.raise_for_status()
                path = state_dir() / "idp-metadata.xml"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(metadata.text)
                self._client = Saml2Client(config=sp_config(self.url, path))
            return self._client

    def idp_entity(self) -> str:
        return next(iter(self.client().metadata.identity_providers()))


def page(title: str, body: str) -> Response:
    html = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)}</title><link rel="stylesheet" href="/style.css"></head>'
            f'<body><header><strong>Téléservices</strong> — démonstration SAML</header>'
            f'<main>{body}</main></body></html>')
    return Response(html)  # its Content-Security-Policy: create_app's after_request


def create_app(url: str, issuer: str) -> Flask:
    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)
    app.config.update(SESSION_COOKIE_NAME="teleservices_session", SESSION_COOKIE_SAMESITE="Lax")
    sp = Teleservices(url, issuer)
    app.extensions["teleservices"] = sp

    def current() -> dict | None:
        return sp.sessions.get(session.get("sid", ""))

    @app.after_request
    def headers(response):
        # "Se connecter" and "Se déconnecter" are forms whose answer redirects to the IdP:
        # browsers check form-action on those redirects too, so the IdP's origin is allowed
        # (with 'self' alone Chromium blocked the sign-in; issue 21, point 2).
        idp_origin = "{0.scheme}://{0.netloc}".format(urlsplit(issuer))
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; base-uri 'none'; "
            f"form-action 'self' {idp_origin}; frame-ancestors 'none'")
        return response

    @app.get("/style.css")
    def style():
        return Response(CSS, mimetype="text/css")

    @app.get("/metadata")
    def metadata():
        return Response(sp_metadata(url), mimetype="application/samlmetadata+xml")

    @app.get("/")
    def home():
        data = current()
        if data is None:
            return page("Téléservices", (
                "<h1>Téléservices</h1><p>Bourse, orientation, fiche de renseignements…</p>"
                '<form method="post" action="/login"><button>Se connecter avec Connexion '
                "Scolarité</button></form>"))
        rows = "".join(f"<tr><th>{escape(n)}</th><td>{'<br>'.join(escape(v) for v in vs)}</td></tr>"
                       for n, vs in data["attributes"])
        return page("Téléservices", (
            f"<h1>Bonjour {escape(data['given_name'])}</h1>"
            f"<p>Identifiant (NameID persistant) : <code>{escape(data['name_id'])}</code></p>"
            f"<h2>Attributs reçus</h2><table>{rows}</table>"
            f'<form method="post" action="/logout"><input type="hidden" name="csrf" '
            f'value="{data["csrf"]}"><button>Se déconnecter</button></form>'))

    @app.post("/login")
    def login():
        client = sp.client()
        req_id, info = client.prepare_for_authenticate(
            entityid=sp.idp_entity(), relay_state="/", binding=BINDING_HTTP_REDIRECT,
            sigalg=SIG_RSA_SHA256)
        sp.outstanding = {k: t for k, t in sp.outstanding.items() if t > time.time() - 600}
        sp.outstanding[req_id] = time.time()
        return redirect(dict(info["headers"])["Location"], code=303)

    @app.post("/acs")
    def acs():
        try:
            result = sp.client().parse_authn_request_response(
                request.form.get("SAMLResponse", ""), BINDING_HTTP_POST,
                outstanding={k: "/" for k in sp.outstanding})
        except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds
            return page("Erreur", f"<h1>Connexion refusée</h1><p>{escape(str(exc))}</p>"), 400
        if result is None:
            abort(400)
        sp.outstanding.pop(result.in_response_to, None)
        attributes = [(a.friendly_name or a.name, [v.text or "" for v in a.attribute_value])
                      for s in result.assertion.attribute_statement for a in s.attribute]
        given = next((v[0] for n, v in attributes if n == "givenName" and v), "")
        key = secrets.token_urlsafe(32)
        sp.sessions[key] = {"name_id": result.name_id.text, "name_id_obj": result.name_id,
                            "session_index": result.assertion.authn_statement[0].session_index,
                            "attributes": attributes, "given_name": given,
                            "csrf": secrets.token_urlsafe(24)}
        session["sid"] = key
        return redirect("/", code=303)

    @app.post("/logout")
    def logout():
        data = current()
        if data is None or request.form.get("csrf") != data["csrf"]:
            return redirect("/", code=303)
        sp.sessions.pop(session.pop("sid"), None)
        client = sp.client()
        destination = client.metadata.single_logout_service(
            sp.idp_entity(), BINDING_HTTP_REDIRECT, "idpsso")[0]["location"]
        _, req = client.create_logout_request(destination, sp.idp_entity(),
                                              name_id=data["name_id_obj"],
                                              session_indexes=[data["session_index"]])
        info = client.apply_binding(BINDING_HTTP_REDIRECT, str(req), destination, "/",
                                    sign=True, sigalg=SIG_RSA_SHA256)
        return redirect(dict(info["headers"])["Location"], code=303)

    @app.get("/slo")
    def slo():
        if "SAMLRequest" in request.args:  # the IdP logs the family out everywhere
            return logout_requested()
        if "SAMLResponse" in request.args:
            try:
                sp.client().parse_logout_request_response(request.args["SAMLResponse"],
                                                          BINDING_HTTP_REDIRECT)
            except Exception as exc:  # noqa: BLE001 - shown, the local session is gone anyway
                return page("Déconnexion", f"<h1>Réponse de déconnexion refusée</h1>"
                                           f"<p>{escape(str(exc))}</p>"), 400
        return page("Déconnexion", "<h1>Votre session est fermée</h1>"
                                    "<p><a href=\"/\">Accueil</a></p>")

    def logout_requested():
        """The IdP's LogoutRequest (HTTP-Redirect, signed query string required): every
        local session of that NameID (and SessionIndex) ends; a signed LogoutResponse goes
        back with the RelayState received."""
        client, args = sp.client(), request.args
        relay_state = args.get("RelayState")
        try:
            xml = client.unravel(args["SAMLRequest"], BINDING_HTTP_REDIRECT,
                                 LogoutRequest.msgtype)
            checked = LogoutRequest(client.sec, [url + "/slo"], timeslack=60).loads(
                xml, BINDING_HTTP_REDIRECT, origdoc=args["SAMLRequest"], must=True,
                relay_state=relay_state, sigalg=args.get("SigAlg"),
                signature=args.get("Signature"))
            if not checked.verify():
                raise ValueError("LogoutRequest not valid")
        except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds
            return page("Erreur", f"<h1>Demande de déconnexion refusée</h1>"
                                  f"<p>{escape(str(exc))}</p>"), 400
        message = checked.message
        name_id = message.name_id.text if message.name_id is not None else None
        indexes = {s.text for s in message.session_index or []}
        for key, data in list(sp.sessions.items()):
            if data["name_id"] == name_id and (not indexes or data["session_index"] in indexes):
                sp.sessions.pop(key, None)
        # Success even when no session was left: the family is logged out here either way.
        answer = client.create_logout_response(message, [BINDING_HTTP_REDIRECT], sign=False)
        destination = client.metadata.single_logout_service(
            sp.idp_entity(), BINDING_HTTP_REDIRECT, "idpsso")[0]["location"]
        info = client.apply_binding(BINDING_HTTP_REDIRECT, str(answer), destination,
                                    relay_state or "", response=True, sign=True,
                                    sigalg=SIG_RSA_SHA256)
        return redirect(dict(info["headers"])["Location"], code=303)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5003)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    url = os.environ.get("DEMO_TELESERVICES_URL", f"http://{args.host}:{args.port}")
    issuer = os.environ.get("IDP_ISSUER", "http://127.0.0.1:5000").rstrip("/")
    create_app(url, issuer).run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
