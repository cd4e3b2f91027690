"""Two nodes (two apps on the same database and store) publish the same keys and follow
a rotation made through another: OIDC within about 2 s, the SAML next certificate in the
metadata before it signs, and of two rotations at once exactly one wins."""
from __future__ import annotations

import base64
import re
import threading
import time
from datetime import datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.admin.signing_keys import rotate_signing_keys
from idp.db import db
from idp.keys import KeyChangeConflict, keyset
from idp.keys.material import certificate_base64
from idp.keys.sealing import key_encryption
from idp.models import SigningKey, utcnow

from ..support.browser import Browser
from ..support.cli import run_json
from ..support.keys import eventually
from ..support.saml import PySamlSP, post_form, sign_in_via
from .conftest import Flow

_CERT = re.compile(r"<ns1:X509Certificate>([^<]+)</ns1:X509Certificate>")


def _jwks(client) -> dict:
    response = client.get("/oidc/jwks")
    assert response.status_code == 200
    return response.json


def _published_certificates(client) -> list[str]:
    """The certificates of the metadata's KeyDescriptors (not the signature's KeyInfo)."""
    xml = client.get("/saml/metadata").text
    return _CERT.findall(xml[xml.index("IDPSSODescriptor"):])


def test_two_nodes_publish_identical_jwks_and_metadata(app, node):
    one, two = app.test_client(), node().test_client()
    assert _jwks(one) == _jwks(two) and len(_jwks(one)["keys"]) >= 2
    assert one.get("/oidc/jwks").data == two.get("/oidc/jwks").data
    first, second = one.get("/saml/metadata"), two.get("/saml/metadata")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data  # byte for byte, signature included


def test_a_rotation_through_one_node_reaches_the_other_within_2_seconds(
        app, node, settings, browser, rp, parent, keys_restored):
    other = node()
    one, two = app.test_client(), other.test_client()
    rings = (app.extensions["idp"]["keyring"], other.extensions["idp"]["keyring"])
    old = {ring.signing_key("RS256")[0] for ring in rings}
    rotated = run_json(settings, "keys", "rotate")  # a third process: the CLI
    new, signs_from = set(rotated["active"]), datetime.fromisoformat(rotated["signs_from"])
    assert signs_from - utcnow() <= timedelta(seconds=2)  # 2 s after the rotation, at most
    switched = None
    # Meanwhile, whatever either node signs with verifies against the other's JWKS.
    while switched is None or utcnow() < switched + timedelta(seconds=0.5):
        for ring, verifier in ((rings[0], two), (rings[1], one)):
            kid, key = ring.signing_key("RS256")
            token = jwt.encode({"alg": "RS256", "kid": kid}, {"sub": "x"}, key)
            assert jwt.decode(token, KeySet.import_key_set(_jwks(verifier))).claims["sub"] == "x"
        if switched is None and rings[1].signing_key("RS256")[0] in new:
            switched = utcnow()
        assert utcnow() < signs_from + timedelta(seconds=3), "the other node never switched"
        time.sleep(0.05)
    assert old.isdisjoint(new) and signs_from <= switched < signs_from + timedelta(seconds=1)
    assert new <= {k["kid"] for k in _jwks(one)["keys"]} and old <= {k["kid"] for k in _jwks(two)["keys"]}
    assert one.get("/oidc/jwks").data == two.get("/oidc/jwks").data
    # A flow begun on one node and redeemed on the other: its ID token, signed with the new
    # key there, verifies against the first node's JWKS.
    tokens = Flow(browser, two).tokens_for(rp, parent)
    decoded = jwt.decode(tokens["id_token"], KeySet.import_key_set(_jwks(one)))
    assert decoded.header["kid"] in new and decoded.claims["sub"] == parent.public_id


def test_the_next_saml_certificate_is_published_before_it_signs(app, node, settings, make,
                                                                tmp_path, keys_restored):
    other = node()
    one, two = app.test_client(), other.test_client()
    before = _published_certificates(two)
    assert len(before) == 1 and before == _published_certificates(one)
    rotated = run_json(settings, "keys", "rotate", "--saml")
    with app.app_context():
        upcoming = db.session.scalar(select(SigningKey).where(SigningKey.kid == rotated["kid"]))
        upcoming = certificate_base64(upcoming.public_pem)
    started = time.monotonic()
    assert eventually(lambda: _published_certificates(one) == _published_certificates(two)
                      == before + [upcoming], timeout=3)
    assert time.monotonic() - started < 2.0  # each node reads the version once a second
    # An SP refreshes our metadata now: both certificates. Responses are still signed
    # with the current key, on both nodes, even after the 2 s a rotation would wait.
    sp = PySamlSP(tmp_path / "sp", two.get("/saml/metadata").text).register(app)
    time.sleep(2.2)
    for client in (one, two):
        req_id, page = sign_in_via(Browser(client), sp, make.account())
        assert sp.consume(page.text, req_id).response.signature is not None
        assert _signing_certificate(page.text) == before[0]
    activated = run_json(settings, "keys", "activate", "--saml")
    assert activated["kid"] == rotated["kid"]
    rings = [a.extensions["idp"]["keyring"] for a in (app, other)]
    assert eventually(lambda: all(r.saml_signer().kid == rotated["kid"] for r in rings),
                      timeout=4)
    for client in (one, two):  # the SP that refreshed its metadata accepts the new key
        req_id, page = sign_in_via(Browser(client), sp, make.account())
        assert sp.consume(page.text, req_id).response.signature is not None
        assert _signing_certificate(page.text) == upcoming
    # The retired certificate stays published for the grace period, after the new one.
    assert _published_certificates(two) == before + [upcoming]


def _signing_certificate(page_html: str) -> str:
    """The certificate in the KeyInfo of the Response's signature."""
    _, fields = post_form(page_html)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    return re.search(r"X509Certificate>([^<]+)<", xml).group(1)


def test_two_nodes_rotating_at_once_exactly_one_wins(app, node, keys_restored, monkeypatch):
    other = node()
    both_read = threading.Barrier(2)
    read = keyset.current_keys

    def read_then_wait(session, purpose, state):  # both have read the active keys
        found = read(session, purpose, state)
        if (purpose, state) == ("oidc", "active"):
            both_read.wait(timeout=10)
        return found

    monkeypatch.setattr(keyset, "current_keys", read_then_wait)
    outcomes = []

    def rotate(through):
        with through.app_context():
            try:
                new = rotate_signing_keys(actor="test")
                db.session.commit()
                outcomes.append(("rotated", sorted(k["kid"] for k in new)))
            except KeyChangeConflict as exc:
                outcomes.append(("refused", str(exc)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=rotate, args=(a,)) for a in (app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o[0] for o in outcomes) == ["refused", "rotated"], outcomes
    refusal = next(o[1] for o in outcomes if o[0] == "refused")
    assert refusal == keyset.CONFLICT and "\n" not in refusal
    winner = next(o[1] for o in outcomes if o[0] == "rotated")
    with app.app_context():
        active = db.session.scalars(select(SigningKey.kid).where(
            SigningKey.purpose == "oidc", SigningKey.state == "active")).all()
    assert sorted(active) == winner  # one active key per algorithm: the winner's


def test_the_database_refuses_a_second_active_key_of_an_algorithm(app, keys_restored):
    with app.app_context():
        row = keyset.new_row(key_encryption(app.config), "oidc", "RS256", "active", utcnow(),
                             signs_from=utcnow())
        db.session.add(row)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
