"""The IdP as an independent OpenID Connect client library sees it, over real HTTP.

The relying party is Authlib's requests-based OAuth2Session (not the provider's own code);
the family's browser is a requests.Session (tests/support/served.py). The IdP runs under
gunicorn with 2 workers, so consecutive requests of one flow land on different processes.
Redirect URIs point at 127.0.0.1 ports nothing listens on: the browser stops there and
the test reads code, state and iss from the URL, as an RP's callback would.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.support.oidc import query
from tests.support.served import HttpBrowser, deliver_outbox, free_port

pytestmark = pytest.mark.interop
SCOPE = "openid profile email education"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture
def meta(served_idp) -> dict:
    response = requests.get(served_idp.url + "/.well-known/openid-configuration", timeout=5)
    assert response.status_code == 200
    doc = response.json()
    assert doc["issuer"] == served_idp.url
    return doc


@pytest.fixture
def family(make):
    return make.account(with_pupils=2)


def new_client(make, **kwargs):
    """A registered RP whose redirect URI is a closed port on 127.0.0.1."""
    origin = f"http://127.0.0.1:{free_port()}"
    return make.oidc_client(redirect_uris=[origin + "/cb"], **kwargs)


def rp_session(rp, **kwargs) -> OAuth2Session:
    return OAuth2Session(rp.client_id, rp.client_secret, scope=SCOPE,
                         redirect_uri=rp.redirect_uri, code_challenge_method="S256", **kwargs)


def authorize(browser: HttpBrowser, session: OAuth2Session, meta: dict, account=None,
              **params) -> dict:
    """Run the front channel up to the redirect URI; what the RP's callback receives."""
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **params)
    browser.sign_in(url, account and account.identifier, account and account.password,
                    stop_at=session.redirect_uri)
    assert browser.page is None, f"never reached the redirect URI; at {browser.url}"
    return {"url": browser.url, "params": query(browser.url), "state": state,
            "verifier": verifier, "nonce": nonce}


def redeem(session: OAuth2Session, meta: dict, front: dict) -> dict:
    assert front["params"].get("iss") == meta["issuer"], "RFC 9207 iss missing or wrong"
    return session.fetch_token(meta["token_endpoint"], authorization_response=front["url"],
                               state=front["state"], code_verifier=front["verifier"])


def verify_id_token(token: dict, meta: dict, client_id: str, nonce: str,
                    alg: str = "RS256") -> dict:
    """Signature against the published JWKS, then iss/aud/exp/nonce/at_hash (Authlib)."""
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=5).json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=[alg])
    assert decoded.header["alg"] == alg
    claims = CodeIDToken(decoded.claims, decoded.header,
                         {"iss": {"essential": True, "values": [meta["issuer"]]}},
                         {"nonce": nonce, "client_id": client_id,
                          "access_token": token["access_token"]})
    claims.validate()
    return dict(decoded.claims)


def test_code_flow_with_pkce_userinfo_and_id_token(make, meta, family):
    rp, browser = new_client(make), HttpBrowser()
    session = rp_session(rp)
    front = authorize(browser, session, meta, family)
    assert front["params"]["state"] == front["state"]
    assert browser.visited("/choisir-profil") and browser.visited("/connexion")
    token = redeem(session, meta, front)
    assert token["token_type"].lower() == "bearer" and token.get("refresh_token")
    claims = verify_id_token(token, meta, rp.client_id, front["nonce"])
    assert claims["sub"] == family.public_id and claims.get("sid")
    info = session.get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"]
    assert info["profile"] == "parent" and len(info["pupils"]) == 2
    assert info["preferred_username"] == family.identifier


def test_code_is_single_use_and_a_replay_revokes_the_tokens(make, meta, family):
    rp, browser = new_client(make), HttpBrowser()
    session = rp_session(rp)
    front = authorize(browser, session, meta, family)
    token = redeem(session, meta, front)
    with pytest.raises(OAuthError) as replay:
        rp_session(rp).fetch_token(meta["token_endpoint"], code=front["params"]["code"],
                                   code_verifier=front["verifier"])
    assert replay.value.error == "invalid_grant"
    status = session.introspect_token(meta["introspection_endpoint"], token["access_token"])
    assert status.json()["active"] is False, "a replayed code must revoke what it issued"


def test_refresh_rotates_and_reuse_revokes_the_grant(make, meta, family):
    rp, browser = new_client(make), HttpBrowser()
    session = rp_session(rp)
    first = redeem(session, meta, authorize(browser, session, meta, family))
    second = session.refresh_token(meta["token_endpoint"], refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    with pytest.raises(OAuthError) as reuse:
        session.refresh_token(meta["token_endpoint"], refresh_token=first["refresh_token"])
    assert reuse.value.error == "invalid_grant"
    with pytest.raises(OAuthError):  # RFC 9700 4.14: the whole grant is now dead
        session.refresh_token(meta["token_endpoint"], refresh_token=second["refresh_token"])


def test_introspection_and_revocation(make, meta, family):
    rp, browser = new_client(make), HttpBrowser()
    session = rp_session(rp)
    token = redeem(session, meta, authorize(browser, session, meta, family))
    active = session.introspect_token(meta["introspection_endpoint"], token["access_token"])
    assert active.json()["active"] is True and active.json()["client_id"] == rp.client_id
    assert active.json()["sub"] == family.public_id
    other = rp_session(new_client(make))  # an RP cannot look at another RP's tokens
    assert other.introspect_token(meta["introspection_endpoint"],
                                  token["access_token"]).json().get("active") is not True
    revoked = session.revoke_token(meta["revocation_endpoint"], token["access_token"],
                                   token_type_hint="access_token")
    assert revoked.status_code == 200
    assert session.introspect_token(meta["introspection_endpoint"],
                                    token["access_token"]).json()["active"] is False
    bearer = {"Authorization": "Bearer " + token["access_token"]}
    assert requests.get(meta["userinfo_endpoint"], headers=bearer, timeout=5).status_code == 401
    session.revoke_token(meta["revocation_endpoint"], token["refresh_token"],
                         token_type_hint="refresh_token")
    with pytest.raises(OAuthError):
        session.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])


def test_es256_id_tokens(make, meta, family):
    rp, browser = new_client(make, id_token_alg="ES256"), HttpBrowser()
    session = rp_session(rp)
    front = authorize(browser, session, meta, family)
    claims = verify_id_token(redeem(session, meta, front), meta, rp.client_id,
                             front["nonce"], alg="ES256")
    assert claims["sub"] == family.public_id


def test_private_key_jwt_client_authentication(make, meta, family):
    key = RSAKey.generate_key(2048, parameters={"kid": "rp-key-1", "use": "sig"})
    rp = new_client(make, token_auth_method="private_key_jwt",
                    jwks={"keys": [key.as_dict(private=False)]})
    browser = HttpBrowser()

    def session_with(signing_key):
        session = OAuth2Session(rp.client_id, signing_key, scope=SCOPE,
                                redirect_uri=rp.redirect_uri, code_challenge_method="S256",
                                token_endpoint_auth_method="private_key_jwt")
        session.register_client_auth_method(
            PrivateKeyJWT(meta["token_endpoint"], headers={"kid": "rp-key-1"}))
        return session

    intruder = session_with(RSAKey.generate_key(2048))
    with pytest.raises(OAuthError) as refused:  # right kid, wrong key
        redeem(intruder, meta, authorize(browser, intruder, meta, family))
    assert refused.value.error == "invalid_client"
    session = session_with(key)
    front = authorize(browser, session, meta)  # SSO: already signed in
    token = redeem(session, meta, front)
    assert verify_id_token(token, meta, rp.client_id, front["nonce"])["sub"] == family.public_id


def test_concurrent_redemptions_exactly_one_wins(make, meta, family):
    rp, browser = new_client(make), HttpBrowser()
    session = rp_session(rp)
    for round_ in range(3):
        front = authorize(browser, session, meta, family if round_ == 0 else None)
        form = {"grant_type": "authorization_code", "code": front["params"]["code"],
                "redirect_uri": rp.redirect_uri, "code_verifier": front["verifier"]}
        barrier, results = threading.Barrier(2), []

        def redeem_now():
            barrier.wait()
            results.append(requests.post(meta["token_endpoint"], data=form, timeout=15,
                                         auth=(rp.client_id, rp.client_secret)))

        threads = [threading.Thread(target=redeem_now) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 400], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 400)
        assert loser.json()["error"] == "invalid_grant"


def test_single_sign_on_across_two_clients(make, meta, family):
    first, second, browser = new_client(make), new_client(make), HttpBrowser()
    authorize(browser, rp_session(first), meta, family)
    browser.history.clear()
    session = rp_session(second)
    front = authorize(browser, session, meta)  # no credentials given: must not be asked
    assert not browser.visited("/connexion")
    token = redeem(session, meta, front)
    assert verify_id_token(token, meta, second.client_id, front["nonce"])["sub"] == \
        family.public_id


def test_prompt_none_without_session_is_login_required(make, meta):
    rp, browser = new_client(make), HttpBrowser()
    front = authorize(browser, rp_session(rp), meta, prompt="none")
    assert front["params"]["error"] == "login_required"
    assert front["params"]["iss"] == meta["issuer"]
    assert front["params"]["state"] == front["state"]
    assert "code" not in front["params"]


@pytest.fixture
def logout_receiver():
    """A tiny RP back-channel endpoint: records what the IdP POSTs to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            received.append({k: v[0] for k, v in parse_qs(body).items()})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/backchannel", received
    server.shutdown()
    server.server_close()


def test_rp_initiated_logout_sends_backchannel_logout_token(make, meta, family,
                                                            logout_receiver, settings,
                                                            served_idp):
    endpoint, received = logout_receiver
    origin = f"http://127.0.0.1:{free_port()}"
    rp = make.oidc_client(redirect_uris=[origin + "/cb"], backchannel_logout_uri=endpoint,
                          post_logout_redirect_uris=[origin + "/"])
    browser, session = HttpBrowser(), rp_session(rp)
    front = authorize(browser, session, meta, family)
    id_claims = verify_id_token(redeem(session, meta, front), meta, rp.client_id,
                                front["nonce"])
    logout = meta["end_session_endpoint"] + "?" + urlencode({
        "id_token_hint": session.token["id_token"], "post_logout_redirect_uri": origin + "/",
        "state": "bye-1"})
    browser.open(logout)
    assert browser.page is not None and browser.page.status_code == 200  # confirmation
    browser.submit(stop_at=origin + "/")
    assert browser.page is None and query(browser.url) == {"state": "bye-1"}
    assert received == []  # queued: the logout did not wait on the RP
    assert deliver_outbox(settings, served_idp, "logout")["sent"] == 1
    assert len(received) == 1, "the RP got no (or several) logout tokens"
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=5).json())
    decoded = jwt.decode(received[0]["logout_token"], keys, algorithms=["RS256", "ES256"])
    claims = decoded.claims
    assert claims["iss"] == meta["issuer"] and rp.client_id in (
        claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]])
    assert claims["sid"] == id_claims["sid"] and claims["sub"] == id_claims["sub"]
    assert LOGOUT_EVENT in claims["events"] and "nonce" not in claims
    # The SSO session is really gone: a passive request now needs a sign-in.
    after = authorize(browser, rp_session(rp), meta, prompt="none")
    assert after["params"]["error"] == "login_required"


def _form_action_allows(csp: str, idp_origin: str, target: str) -> bool:
    sources = next((d.split()[1:] for d in csp.split(";")
                    if d.split() and d.split()[0] == "form-action"), None)
    if sources is None:
        return True
    parts = urlsplit(target)
    origin = f"{parts.scheme}://{parts.netloc}"
    for source in sources:
        if source == "'self'" and origin == idp_origin or source == parts.scheme + ":":
            return True
        if source == origin or (source.endswith(":*") and
                                origin.rsplit(":", 1)[0] == source[:-2]):
            return True
    return False


def test_sign_in_page_lets_the_browser_reach_the_rp_callback(make, meta, served_idp):
    rp, browser = new_client(make), HttpBrowser()
    url, _ = rp_session(rp).create_authorization_url(
        meta["authorization_endpoint"], code_verifier=generate_token(48))
    browser.open(url)
    if urlsplit(browser.url).path == "/choisir-profil":
        browser.submit({"profile": "parent", "academy": "nancy-metz"})
    assert urlsplit(browser.url).path == "/connexion"
    csp = browser.page.headers["Content-Security-Policy"]
    assert _form_action_allows(csp, served_idp.url, rp.redirect_uri), \
        f"sign-in form's CSP blocks the redirect to {rp.redirect_uri}: {csp}"
