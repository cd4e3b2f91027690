"""Relying parties as Authlib sees them, and their registration.

`Client` adapts the `OIDCClient` row to Authlib's ClientMixin. The rules that Authlib
leaves loose are made strict here: exact redirect URI match, no default redirect URI when
several are registered, one authentication method per client.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..db import db
from ..models import OIDCClient
from ..relying_parties import Problem
from . import client_cache
from .supported import (AUTH_METHODS, DEFAULT_AUTH_METHOD, DEFAULT_SCOPES, SCOPES,
                        SECRET_AUTH_METHODS, SIGNING_ALGS)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Client(ClientMixin):
    def __init__(self, row: OIDCClient):
        self.row = row
        self.client_id = row.client_id
        self.client_metadata = {
            "id_token_signed_response_alg": row.id_token_signed_response_alg}

    @property
    def id_token_signed_response_alg(self) -> str:
        return self.row.id_token_signed_response_alg

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        # Authlib fills in a missing redirect_uri with this: only when it is unambiguous.
        uris = self.row.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        allowed = set(self.row.scopes)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.row.redirect_uris  # exact match, no prefix, no pattern

    def check_client_secret(self, client_secret):
        if not self.row.secret_hash or not client_secret:
            return False
        return hmac.compare_digest(self.row.secret_hash, hash_secret(client_secret))

    def check_endpoint_auth_method(self, method, endpoint):
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")

    @property
    def is_public(self) -> bool:
        return self.row.public


def query_client(client_id: str | None) -> Client | None:
    """An enabled client, or None (a disabled one stops working at once)."""
    if not client_id or not isinstance(client_id, str) or len(client_id) > 64:
        return None
    # Authlib looks the client up several times per request: once per request is
    # enough; between requests, the process cache holds while no client changed.
    memo = g.setdefault("oidc_clients", {})
    if client_id not in memo:
        memo[client_id] = client_cache.cached(client_id, _load_client)
    return memo[client_id]


def _load_client(client_id: str) -> Client | None:
    row = db.session.scalar(select(OIDCClient).where(OIDCClient.client_id == client_id))
    if row is None or not row.enabled:
        return None
    db.session.expunge(row)  # read only, shared by the process's later requests
    return Client(row)


def new_client_id() -> str:
    """128 random bits, URL-safe, never starting with "-" (an operator types it after
    `idp clients edit-oidc`, where a leading dash would read as an option)."""
    while (client_id := secrets.token_urlsafe(16)).startswith("-"):
        pass
    return client_id


class RegistrationError(ValueError):
    """A client registration or edit that cannot be accepted; the message says why (one
    line, English, for the CLI). `problems` holds every refusal by field (validate_client)."""

    def __init__(self, message: str, problems: dict | None = None):
        super().__init__(message)
        self.problems = problems or {}


def _problem(message: str, *french) -> Problem:
    return Problem(message, tuple(french))


def refused(problems: dict[str, Problem]) -> RegistrationError:
    """The error a registration or an edit raises: the first problem, all of them kept."""
    return RegistrationError(next(iter(problems.values())).message, problems)


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
MAX_NAME = 120  # the column's length
MAX_URI = 500  # backchannel_logout_uri and jwks_uri columns
MAX_URIS = 20  # redirect URIs, post-logout redirect URIs


def uri_problem(uri: str) -> Problem | None:
    """Absolute https URL (http only for localhost), no fragment: or why not."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return _problem(f"not an absolute URL: {uri}",
                        _l("« %(uri)s » n'est pas une adresse valide.", uri=uri))
    if parts.scheme not in ("https", "http") or not parts.netloc or not host:
        return _problem(f"not an absolute URL: {uri}",
                        _l("« %(uri)s » n'est pas une adresse absolue (https://…).", uri=uri))
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        return _problem(f"http is allowed only for localhost: {uri}",
                        _l("« %(uri)s » : http n'est permis que pour localhost ; utilisez "
                           "https.", uri=uri))
    if parts.fragment or uri.endswith("#"):
        return _problem(f"a redirect URI cannot have a fragment: {uri}",
                        _l("« %(uri)s » ne doit pas contenir de fragment (#…).", uri=uri))
    return None


def check_redirect_uri(uri: str) -> str:
    """`uri` if uri_problem finds nothing, else RegistrationError."""
    problem = uri_problem(uri)
    if problem:
        raise RegistrationError(problem.message, {"uri": problem})
    return uri


def new_client_secret() -> str:
    """A client secret: 256 random bits, URL-safe. The one place secrets are drawn
    (registration, an edit that makes a client confidential, rotation)."""
    return secrets.token_urlsafe(32)


# The fields validate_client reads (the client's settings, as the OIDCClient columns).
CLIENT_FIELDS = ("name", "redirect_uris", "post_logout_redirect_uris",
                 "backchannel_logout_uri", "scopes", "token_endpoint_auth_method", "public",
                 "jwks_uri", "jwks", "pairwise", "id_token_signed_response_alg")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def normalized_client(values: dict) -> dict:
    """The values as they are stored: name and URIs without surrounding spaces, an
    empty optional URI as None, lists as lists."""
    out = dict(values)
    out["name"] = (out.get("name") or "").strip()
    for key in ("redirect_uris", "post_logout_redirect_uris"):
        out[key] = [u.strip() for u in out.get(key) or [] if u and u.strip()]
    for key in ("backchannel_logout_uri", "jwks_uri"):
        out[key] = _strip(out.get(key)) or None
    out["scopes"] = list(out.get("scopes") or [])
    return out


def _name_taken(name: str, row_id: int | None) -> bool:
    stmt = select(OIDCClient.id).where(OIDCClient.name == name)
    if row_id is not None:
        stmt = stmt.where(OIDCClient.id != row_id)
    return db.session.scalar(stmt) is not None


def _uri_list_problem(uris: list[str], required: bool) -> Problem | None:
    if required and not uris:
        return _problem("at least one redirect URI is required",
                        _l("Indiquez au moins une adresse de retour."))
    if len(uris) > MAX_URIS:
        return _problem(f"at most {MAX_URIS} URIs", _l("20 adresses au plus."))
    problems = [p for p in map(uri_problem, uris) if p]
    if problems:  # the CLI says the first; the console, all of them
        return Problem(problems[0].message, tuple(f for p in problems for f in p.sentences()))
    return None


def _optional_uri_problem(uri: str | None) -> Problem | None:
    if not uri:
        return None
    if len(uri) > MAX_URI:
        return _problem(f"URI longer than {MAX_URI} characters: {uri[:60]}…",
                        _l("500 caractères au plus."))
    return uri_problem(uri)


def validate_client(values: dict, row_id: int | None = None) -> dict[str, Problem]:
    """Every rule a client's settings must follow, for a registration (`row_id` None) and
    an edit (the edited row's id) alike: {field: problem}, empty when all is well.

    `values` has CLIENT_FIELDS; the caller fills in what an edit leaves unchanged and
    the registration defaults. Used by register_client, the admin edit, the CLI and the
    console forms (which show `problem.shown()` beside the field)."""
    values = normalized_client(values)
    problems: dict[str, Problem] = {}
    name = values["name"]
    if not name:
        problems["name"] = _problem("a client needs a name", _l("Donnez un nom au service."))
    elif len(name) > MAX_NAME:
        problems["name"] = _problem(f"a client name has at most {MAX_NAME} characters",
                                    _l("120 caractères au plus."))
    elif _name_taken(name, row_id):
        problems["name"] = _problem(
            f"a client named {name!r} already exists",
            _l("Un service porte déjà ce nom : choisissez-en un autre."))
    for key, required in (("redirect_uris", True), ("post_logout_redirect_uris", False)):
        problem = _uri_list_problem(values[key], required)
        if problem:
            problems[key] = problem
    for key in ("backchannel_logout_uri", "jwks_uri"):
        problem = _optional_uri_problem(values[key])
        if problem:
            problems[key] = problem
    method = values.get("token_endpoint_auth_method")
    if method not in AUTH_METHODS:
        problems["token_endpoint_auth_method"] = _problem(
            f"unknown token endpoint auth method {method}",
            _l("Méthode d'authentification inconnue : %(method)s.", method=str(method)))
    elif bool(values.get("public")) != (method == "none"):
        problems["token_endpoint_auth_method"] = _problem(
            "public clients, and only they, use the method 'none'",
            _l("Un service public, et lui seul, s'authentifie sans secret (méthode none)."))
    elif method == "private_key_jwt" and not (values["jwks_uri"] or values.get("jwks")):
        problems["jwks_uri"] = problems.get("jwks_uri") or _problem(
            "private_key_jwt needs --jwks-uri",
            _l("Indiquez l'adresse des clés publiques du service."))
    unknown = sorted(set(values["scopes"]) - set(SCOPES))
    if unknown:
        problems["scopes"] = _problem(f"unknown scopes: {', '.join(unknown)}",
                                      _l("Scopes inconnus : %(scopes)s.",
                                         scopes=", ".join(unknown)))
    elif "openid" not in values["scopes"]:
        problems["scopes"] = _problem("the openid scope is required",
                                      _l("Le scope openid est obligatoire."))
    if values.get("id_token_signed_response_alg") not in SIGNING_ALGS:
        problems["id_token_signed_response_alg"] = _problem(
            "id token algorithm must be RS256 or ES256",
            _l("Les jetons d'identité sont signés en RS256 ou en ES256."))
    return problems


def checked_client(values: dict, row_id: int | None = None) -> dict:
    """The normalized values, or RegistrationError with every problem."""
    values = normalized_client(values)
    problems = validate_client(values, row_id)
    if problems:
        raise refused(problems)
    return values


@dataclass
class Registered:
    row: OIDCClient
    client_secret: str | None


def register_client(*, name: str, redirect_uris: list[str], public: bool = False,
                    post_logout_redirect_uris: list[str] | None = None,
                    backchannel_logout_uri: str | None = None,
                    scopes: list[str] | None = None, token_auth_method: str | None = None,
                    jwks_uri: str | None = None, jwks: dict | None = None,
                    pairwise: bool = False, id_token_alg: str = "RS256",
                    client_id: str | None = None, client_secret: str | None = None) -> Registered:
    """Validate (validate_client) and add a client; returns the row and, once, the plain
    secret. Defaults of a registration: the method follows `public`, DEFAULT_SCOPES."""
    values = checked_client({
        "name": name, "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": post_logout_redirect_uris,
        "backchannel_logout_uri": backchannel_logout_uri,
        "scopes": scopes or list(DEFAULT_SCOPES),
        "token_endpoint_auth_method": token_auth_method or (
            "none" if public else DEFAULT_AUTH_METHOD),
        "public": public, "jwks_uri": jwks_uri, "jwks": jwks, "pairwise": pairwise,
        "id_token_signed_response_alg": id_token_alg})
    secret = None
    if values["token_endpoint_auth_method"] in SECRET_AUTH_METHODS:
        secret = client_secret or new_client_secret()
    row = OIDCClient(client_id=client_id or new_client_id(),
                     secret_hash=hash_secret(secret) if secret else None,
                     **{k: values[k] for k in CLIENT_FIELDS})
    db.session.add(row)
    db.session.flush()
    return Registered(row, secret)
