"""Key rotation keeps the previous public key published; keys are sealed in the database;
a store outage answers 503."""
from __future__ import annotations

from datetime import timedelta

from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.db import db
from idp.keys import keyset
from idp.keys.sealing import key_encryption, unseal
from idp.models import SigningKey, utcnow
from idp.store import StoreUnavailable


def _rotate(app, grace_days=7, ago=3.0):
    """Rotate the OIDC keys as if `ago` seconds ago (so the new keys already sign)."""
    with app.app_context():
        new = keyset.rotate_oidc(db.session, key_encryption(app.config), grace_days,
                                 now=utcnow() - timedelta(seconds=ago))
        db.session.commit()
    return new


def test_rotation_keeps_the_old_public_key_for_the_grace_period(app, keys_restored):
    ring = app.extensions["idp"]["keyring"]
    old_kid, old_key = ring.signing_key("RS256")
    token = jwt.encode({"alg": "RS256", "kid": old_kid}, {"sub": "x"}, old_key)
    _rotate(app)
    new_kid, _ = ring.signing_key("RS256")  # this process reloads at once
    assert new_kid != old_kid
    kids = {k["kid"] for k in ring.jwks()["keys"]}
    assert {old_kid, new_kid} <= kids
    assert jwt.decode(token, KeySet.import_key_set(ring.jwks())).claims["sub"] == "x"
    assert all("d" not in k for k in ring.jwks()["keys"])  # public parts only


def test_keys_beyond_the_grace_are_dropped(app, keys_restored):
    ring = app.extensions["idp"]["keyring"]
    first = ring.signing_key("RS256")[0]
    _rotate(app, grace_days=0, ago=10)
    _rotate(app, grace_days=0, ago=5)
    assert first not in {k["kid"] for k in ring.jwks()["keys"]}
    with app.app_context():
        assert db.session.scalar(select(SigningKey).where(SigningKey.kid == first)) is None


def test_rows_hold_no_private_key_in_clear(app):
    with app.app_context():
        rows = db.session.scalars(select(SigningKey)).all()
        assert {(r.purpose, r.alg) for r in rows} >= {("oidc", "RS256"), ("oidc", "ES256"),
                                                      ("saml", "RS256")}
        for row in rows:
            stored = " ".join(str(v) for v in (row.kid, row.public_pem, row.sealed_private))
            # A Fernet token (version byte 0x80: "gAAAAA"), neither PEM nor base64 DER
            # ("MII..."); a random ciphertext may hold "MII" anywhere, so only its start
            # is looked at.
            assert "PRIVATE KEY" not in stored
            assert row.sealed_private.startswith("gAAAAA")
            assert b"-----BEGIN PRIVATE KEY-----" in unseal(key_encryption(app.config), row)


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
