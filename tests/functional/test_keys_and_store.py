"""Key rotation keeps the previous public key published; a store outage answers 503."""
from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from idp.oidc.keys import generate, rotate, KeyRing
from idp.store import StoreUnavailable


def test_rotation_keeps_the_old_public_key_for_the_grace_period(tmp_path):
    generate(tmp_path)
    ring = KeyRing(tmp_path, grace_days=7)
    old_kid, old_key = ring.signing_key("RS256")
    token = jwt.encode({"alg": "RS256", "kid": old_kid}, {"sub": "x"}, old_key)
    rotate(tmp_path, grace_days=7)
    ring._checked = 0  # let the ring notice the new index at once
    new_kid, _ = ring.signing_key("RS256")
    assert new_kid != old_kid
    kids = {k["kid"] for k in ring.jwks()["keys"]}
    assert {old_kid, new_kid} <= kids
    assert jwt.decode(token, KeySet.import_key_set(ring.jwks())).claims["sub"] == "x"
    assert all("d" not in k for k in ring.jwks()["keys"])  # public parts only


def test_keys_beyond_the_grace_are_dropped(tmp_path):
    generate(tmp_path)
    first = KeyRing(tmp_path, grace_days=0).signing_key("RS256")[0]
    rotate(tmp_path, grace_days=0)
    rotate(tmp_path, grace_days=0)
    ring = KeyRing(tmp_path, grace_days=0)
    assert first not in {k["kid"] for k in ring.jwks()["keys"]}


def test_key_files_are_private(tmp_path):
    generate(tmp_path)
    for pem in tmp_path.glob("*.pem"):
        assert pem.stat().st_mode & 0o077 == 0


def test_jwks_never_offers_alg_none(client):
    keys = client.get("/oidc/jwks").json["keys"]
    assert {k["alg"] for k in keys} == {"RS256", "ES256"}


def test_sign_in_answers_503_when_the_store_is_down(app, browser, make, monkeypatch):
    parent = make.account()
    browser.choose()
    page = browser.get("/connexion")
    store = app.extensions["idp"]["store"]

    def down(*args, **kwargs):
        raise StoreUnavailable("down")

    monkeypatch.setattr(store, "get", down)
    monkeypatch.setattr(store, "incr", down)
    response = browser.submit("/connexion", {"identifier": parent.identifier,
                                             "password": parent.password}, page_html=page.text)
    assert response.status_code == 503
    assert "momentanément indisponible" in response.text
