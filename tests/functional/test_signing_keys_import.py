"""`idp keys import DIR` moves a former keys/ directory (as `idp keys generate` wrote it
until issue 15) into the database, keeping kids, states and the SAML certificate SPs pin;
`idp keys reencrypt` moves every row to a new key-encryption key."""
from __future__ import annotations

import json
import time
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import func, select

from idp.db import db
from idp.keys import material
from idp.keys.sealing import new_key_encryption_key
from idp.keys.version import bump
from idp.models import SigningKey

from ..support.cli import run_idp, run_json
from ..support.keys import eventually


def former_keys_dir(base: Path) -> dict:
    """A keys/ directory in the former layout: keyring.json + one PEM per OIDC key (an
    RS256 retired yesterday, an active RS256 and ES256), saml/idp-signing.key + .crt."""
    base.mkdir(parents=True)
    now = time.time()
    entries, pems = [], {}
    for kid, alg, retired in (("rs256-20250101-0badc0de", "RS256", now - 86400),
                              ("rs256-20250102-1badc0de", "RS256", None),
                              ("es256-20250102-2badc0de", "ES256", None)):
        key = material.new_private_key(alg)
        pems[kid] = material.private_pem(key)
        (base / f"{kid}.pem").write_bytes(pems[kid])
        entries.append({"kid": kid, "alg": alg, "file": f"{kid}.pem", "created": now - 2 * 86400,
                        "retired": retired})
    (base / "keyring.json").write_text(json.dumps(entries, indent=2))
    saml_key = material.new_private_key("RS256")
    (base / "saml").mkdir()
    (base / "saml" / "idp-signing.key").write_bytes(material.private_pem(saml_key))
    certificate = material.self_signed_certificate(saml_key)
    (base / "saml" / "idp-signing.crt").write_text(certificate)
    return {"pems": pems, "certificate": certificate}


def _empty_keys(app) -> None:
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(SigningKey.__table__.delete())
        bump(app.extensions["idp"]["store"])
    app.extensions["idp"]["keyring"].forget()


def _rows(app) -> dict:
    with app.app_context():
        return {r.kid: r.state for r in db.session.scalars(select(SigningKey))}


def test_import_keeps_kids_states_and_the_saml_certificate(app, client, settings, tmp_path,
                                                          keys_restored):
    former = former_keys_dir(tmp_path / "keys")
    _empty_keys(app)
    report = run_json(settings, "keys", "import", str(tmp_path / "keys"))
    states = {r["kid"]: r["state"] for r in report["imported"]}
    assert states == {"rs256-20250101-0badc0de": "retired", "rs256-20250102-1badc0de": "active",
                      "es256-20250102-2badc0de": "active",
                      next(k for k in states if k.startswith("saml-")): "active"}
    assert _rows(app) == states
    # A token signed with the former file key verifies against the JWKS, and that key
    # still signs: relying parties notice nothing.
    key = RSAKey.import_key(former["pems"]["rs256-20250102-1badc0de"])
    token = jwt.encode({"alg": "RS256", "kid": "rs256-20250102-1badc0de"}, {"sub": "x"}, key)
    assert eventually(lambda: client.get("/oidc/jwks").status_code == 200, timeout=3)
    published = client.get("/oidc/jwks").json
    assert {k["kid"] for k in published["keys"]} == {k for k in states if not k.startswith("saml")}
    assert jwt.decode(token, KeySet.import_key_set(published)).claims["sub"] == "x"
    ring = app.extensions["idp"]["keyring"]
    assert ring.signing_key("RS256")[0] == "rs256-20250102-1badc0de"
    assert ring.saml_signer().public_pem == former["certificate"]
    assert material.certificate_base64(former["certificate"]) in client.get("/saml/metadata").text
    # Again: nothing to do.
    again = run_json(settings, "keys", "import", str(tmp_path / "keys"))
    assert again["imported"] == [] and {r["reason"] for r in again["skipped"]} == {"already imported"}


def test_import_beside_keys_already_in_the_database(app, settings, tmp_path, keys_restored):
    former_keys_dir(tmp_path / "keys")
    signing = app.extensions["idp"]["keyring"].signing_key("RS256")[0]
    report = run_json(settings, "keys", "import", str(tmp_path / "keys"))
    states = {r["kid"]: r["state"] for r in report["imported"]}
    # The database's keys keep signing; the former ones stay verifiable for the grace.
    assert states == {"rs256-20250101-0badc0de": "retired", "rs256-20250102-1badc0de": "retired",
                      "es256-20250102-2badc0de": "retired"}
    assert [r["purpose"] for r in report["skipped"]] == ["saml"]
    assert "already signs SAML" in report["skipped"][0]["reason"]
    assert eventually(lambda: app.extensions["idp"]["keyring"].signing_key("RS256")[0] == signing
                      and "rs256-20250102-1badc0de" in {
                          k["kid"] for k in app.test_client().get("/oidc/jwks").json["keys"]})


def test_a_broken_keys_directory_is_refused_in_one_line_with_nothing_written(
        app, settings, tmp_path, keys_restored):
    former_keys_dir(tmp_path / "keys")
    pem = tmp_path / "keys" / "es256-20250102-2badc0de.pem"
    pem.write_bytes(pem.read_bytes()[:60])  # truncated
    _empty_keys(app)
    result = run_idp(settings, "keys", "import", str(tmp_path / "keys"), expect_ok=False)
    assert result.exit_code == 1 and result.output.strip().count("\n") == 0
    assert "es256-20250102-2badc0de.pem: not a readable private key" in result.output
    assert _rows(app) == {}
    missing = run_idp(settings, "keys", "import", str(tmp_path / "nowhere"), expect_ok=False)
    assert missing.exit_code == 1 and "no such directory" in missing.output


def test_the_key_encryption_key_rotates(app, node, settings, keys_restored):
    old, new = settings["KEY_ENCRYPTION_KEY"], new_key_encryption_key()
    both = {**settings, "KEY_ENCRYPTION_KEY": f"{new},{old}"}  # the new one seals
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(SigningKey))
    assert run_json(both, "keys", "reencrypt")["reencrypted"] == count
    assert node(KEY_ENCRYPTION_KEY=new).test_client().get("/oidc/jwks").status_code == 200
    assert node(KEY_ENCRYPTION_KEY=new).test_client().get("/saml/metadata").status_code == 200
    assert node(KEY_ENCRYPTION_KEY=old).test_client().get("/oidc/jwks").status_code == 503
    rotated = run_json({**settings, "KEY_ENCRYPTION_KEY": new}, "keys", "rotate")
    assert len(rotated["active"]) == 2
