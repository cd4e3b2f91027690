"""The IdP as an OpenID Connect client of FranceConnect (partner documentation, "FS" v2).

Authlib's requests client (OAuth2Session) builds the authorization URL and redeems the
code (client_secret_post); joserfc verifies what comes back. What is checked, so that a
response from elsewhere never signs anyone in:
- `state` (32+ random characters) is bound to this browser's session and single use
  (taken from the store: a second callback with it finds nothing);
- the ID token is signed (ES256 or RS256 only, never `none` or a shared secret) by a
  key of FranceConnect's JWKS; the JWKS is kept in the store (shared by every node) for
  FRANCECONNECT_JWKS_SECONDS and fetched again when a token names an unknown `kid`
  (at most every JWKS_REFETCH_SECONDS, so forged kids cannot make us hammer FC);
- `iss` is the discovery document's issuer, `aud` our client id (`azp` too when several),
  `exp`/`iat` current, `nonce` the one sent (32+ characters), `acr` at least asked;
- the userinfo answer is a JWT signed the same way, for the same issuer, audience and
  `sub` as the ID token.

Failures are of two kinds: `Unavailable` (FranceConnect down, slow, answering garbage:
the family may use its password) and `Refused` (the answer is not one we can trust:
audited, nothing linked). Neither ever becomes a 500.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app, url_for
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ...extensions import store

ALGORITHMS = ["ES256", "RS256"]
ACR_LEVELS = ("eidas1", "eidas2", "eidas3")
LEEWAY = 120                 # seconds of clock skew accepted on exp / iat
DISCOVERY_SECONDS = 3600
JWKS_REFETCH_SECONDS = 10
FLOW_SECONDS = 600           # from the button to FranceConnect's answer
_PREFIX = "fc:"


class Unavailable(Exception):
    """FranceConnect cannot be used right now (down, slow, garbage)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Refused(Exception):
    """FranceConnect's answer is not trusted: `reason` names the check that failed."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Identity:
    """The pivot identity FranceConnect vouched for, and how."""
    sub: str
    given_name: str
    family_name: str
    birthdate: str | None
    gender: str | None
    birthplace: str | None
    birthcountry: str | None
    email: str | None
    acr: str
    id_token: str

    def to_dict(self) -> dict:
        return asdict(self)


def _config(name: str):
    return current_app.config["FRANCECONNECT_" + name]


def enabled() -> bool:
    return bool(current_app.config.get("FRANCECONNECT_ENABLED"))


def _timeout() -> float:
    return float(_config("TIMEOUT"))


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=_timeout())
    except requests.RequestException as exc:
        raise Unavailable(type(exc).__name__) from None
    if response.status_code != 200:
        raise Unavailable(f"HTTP {response.status_code} from {url}")
    try:
        data = response.json()
    except ValueError:
        raise Unavailable(f"not JSON from {url}") from None
    if not isinstance(data, dict):
        raise Unavailable(f"not a JSON object from {url}")
    return data


REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint",
                     "userinfo_endpoint", "jwks_uri", "end_session_endpoint")


def metadata() -> dict:
    """The discovery document (kept an hour in the store)."""
    cached = store().get(_PREFIX + "discovery")
    if cached:
        return cached
    data = _get_json(_config("DISCOVERY_URL"))
    if not all(isinstance(data.get(k), str) and data[k] for k in REQUIRED_METADATA):
        raise Unavailable("incomplete discovery document")
    store().set(_PREFIX + "discovery", data, DISCOVERY_SECONDS)
    return data


def _key_set(force: bool = False) -> KeySet:
    cached = None if force else store().get(_PREFIX + "jwks")
    if cached is None:
        cached = _get_json(metadata()["jwks_uri"])
        store().set(_PREFIX + "jwks", cached, int(_config("JWKS_SECONDS")))
    try:
        return KeySet.import_key_set(cached)
    except (JoseError, ValueError, TypeError, KeyError):
        store().delete(_PREFIX + "jwks")
        raise Unavailable("unreadable JWKS") from None


def _decode(token: str):
    """A JWS verified with FranceConnect's keys; the JWKS is fetched again once for a
    key id it does not hold."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise Unavailable("not a JWS")
    try:
        header = jws.extract_compact(token.encode()).protected  # parsed, not verified
    except (JoseError, ValueError, TypeError):
        raise Unavailable("unreadable JWS") from None
    if header.get("alg") not in ALGORITHMS:
        raise Refused("algorithm")
    keys = _key_set()
    kid = header.get("kid")
    if kid is not None and not any(k.kid == kid for k in keys.keys):
        if not store().add(_PREFIX + "jwks-refetch", 1, JWKS_REFETCH_SECONDS):
            raise Refused("unknown_key")
        keys = _key_set(force=True)
        if not any(k.kid == kid for k in keys.keys):
            raise Refused("unknown_key")
    try:
        return jwt.decode(token, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError):
        raise Refused("signature") from None


def _check_common(claims: dict, meta: dict) -> None:
    if claims.get("iss") != meta["issuer"]:
        raise Refused("issuer")
    client_id = _config("CLIENT_ID")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != client_id):
        raise Refused("audience")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise Refused("sub")


def acr_satisfies(returned, asked: str) -> bool:
    """`returned` is an eIDAS level at least `asked`."""
    if returned not in ACR_LEVELS or asked not in ACR_LEVELS:
        return False
    return ACR_LEVELS.index(returned) >= ACR_LEVELS.index(asked)


def _redirect_uri() -> str:
    # From the configured base URL, never the Host header.
    return current_app.config["BASE_URL"] + url_for("franceconnect.callback")


def _session(**kwargs) -> OAuth2Session:
    return OAuth2Session(_config("CLIENT_ID"), _config("CLIENT_SECRET"),
                         scope=_config("SCOPES"), redirect_uri=_redirect_uri(),
                         token_endpoint_auth_method="client_secret_post",
                         # FranceConnect's access tokens live 60 s: Authlib's default
                         # leeway (60 s) would call them expired at once.
                         leeway=5, **kwargs)


def authorization_url(owner: str, purpose: str = "signin", suite: str | None = None) -> str:
    """Where the browser goes: FranceConnect's authorize endpoint with a fresh `state`
    and `nonce` (43 random characters each), kept in the store for FLOW_SECONDS under
    the state and bound to `owner` (a random value of this browser's session).
    `purpose`: "signin", or "reauth" (a signed-in account confirms who it is; `suite`
    names the page to go back to)."""
    meta = metadata()
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    url, _ = _session().create_authorization_url(
        meta["authorization_endpoint"], state=state, nonce=nonce,
        acr_values=_config("ACR"))
    store().set(_PREFIX + "flow:" + state, {"nonce": nonce, "owner": owner,
                                            "purpose": purpose, "suite": suite,
                                            "at": time.time()},
                FLOW_SECONDS)
    return url


def take_flow(state: str | None, owner: str | None) -> dict:
    """The flow `state` names, once (single use), if this browser started it."""
    if not state or not owner or len(state) > 128:
        raise Refused("state")
    flow = store().take(_PREFIX + "flow:" + state)
    if not flow or not secrets.compare_digest(str(flow.get("owner")), owner):
        raise Refused("state")
    return flow


def redeem(code: str | None, flow: dict) -> Identity:
    """The code for tokens, the ID token and the userinfo checked: who signed in."""
    if not code or len(code) > 512:
        raise Refused("code")
    meta = metadata()
    client = _session()
    try:
        token = client.fetch_token(meta["token_endpoint"], code=code,
                                   grant_type="authorization_code", timeout=_timeout())
    except requests.RequestException as exc:
        raise Unavailable(type(exc).__name__) from None
    except AuthlibBaseError as exc:  # an OAuth error answer: invalid_grant (replayed code)
        raise Refused("token_" + str(getattr(exc, "error", "error"))) from None
    except ValueError:
        raise Unavailable("token answer not JSON") from None
    id_token = token.get("id_token")
    if not token.get("access_token") or not id_token:
        raise Unavailable("token answer without tokens")
    claims = dict(_decode(id_token).claims)
    _check_common(claims, meta)
    now = time.time()
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < now - LEEWAY \
            or not isinstance(claims.get("iat"), (int, float)) or claims["iat"] > now + LEEWAY:
        raise Refused("expired")
    if not secrets.compare_digest(str(claims.get("nonce") or ""), flow["nonce"]):
        raise Refused("nonce")
    if not acr_satisfies(claims.get("acr"), _config("ACR")):
        raise Refused("acr")
    info = _userinfo(client, meta, token)
    if info.get("sub") != claims["sub"]:
        raise Refused("userinfo_sub")
    if not isinstance(info.get("given_name"), str) or not info["given_name"].strip() \
            or not isinstance(info.get("family_name"), str) or not info["family_name"].strip():
        raise Unavailable("userinfo without names")
    return Identity(sub=claims["sub"], given_name=info["given_name"].strip(),
                    family_name=info["family_name"].strip(),
                    birthdate=_text(info.get("birthdate")), gender=_text(info.get("gender")),
                    birthplace=_text(info.get("birthplace")),
                    birthcountry=_text(info.get("birthcountry")),
                    email=_text(info.get("email")), acr=claims["acr"], id_token=id_token)


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _userinfo(client: OAuth2Session, meta: dict, token: dict) -> dict:
    """FranceConnect v2 answers userinfo with a signed JWT (application/jwt)."""
    try:
        response = client.get(meta["userinfo_endpoint"], timeout=_timeout())
    except requests.RequestException as exc:
        raise Unavailable(type(exc).__name__) from None
    except AuthlibBaseError as exc:
        raise Unavailable("userinfo: " + str(getattr(exc, "error", "error"))) from None
    if response.status_code != 200:
        raise Unavailable(f"userinfo HTTP {response.status_code}")
    claims = dict(_decode(response.text.strip()).claims)
    _check_common(claims, meta)
    return claims


def logout_url(id_token: str, post_logout_redirect_uri: str, state: str) -> str:
    """FranceConnect's session/end for the session that `id_token` opened."""
    endpoint = metadata()["end_session_endpoint"]
    query = urlencode({"id_token_hint": id_token, "state": state,
                       "post_logout_redirect_uri": post_logout_redirect_uri})
    return endpoint + ("&" if "?" in endpoint else "?") + query
