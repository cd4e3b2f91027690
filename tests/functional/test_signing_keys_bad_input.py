"""Keys that cannot be used answer 503 (never 500) and never sign: a tampered or
truncated row, a wrong or missing key-encryption key, a database without keys yet. The
`idp keys` commands say why in one line and exit 1, with nothing changed."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from idp.db import db
from idp.keys.sealing import new_key_encryption_key
from idp.keys.version import bump
from idp.models import SigningKey

from ..support.cli import run_idp, run_json
from ..support.keys import eventually


def _change_rows(app, **where_values):
    """UPDATE signing_keys behind the application's back, then tell the nodes."""
    where, values = where_values.pop("where"), where_values
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(update(SigningKey).where(*where).values(**values))
        bump(app.extensions["idp"]["store"])


def _row(app, purpose, alg, state="active") -> SigningKey:
    with app.app_context():
        return db.session.scalar(select(SigningKey).where(
            SigningKey.purpose == purpose, SigningKey.alg == alg, SigningKey.state == state))


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SigningKey))


def _assert_unavailable(client, flow=None, rp=None, parent=None):
    jwks = client.get("/oidc/jwks")
    assert jwks.status_code == 503 and jwks.json["error"] == "temporarily_unavailable"
    metadata = client.get("/saml/metadata")
    assert metadata.status_code == 503 and "momentanément indisponible" in metadata.text
    assert client.get("/.well-known/openid-configuration").status_code == 200
    if flow is not None:  # a code is issued (no key needed), its redemption cannot sign
        response = flow.token(rp, flow.code_for(rp, parent)["code"])
        assert response.status_code == 503
        assert response.json["error"] == "temporarily_unavailable"


def _one_line_failure(settings, *args, contains: str):
    result = run_idp(settings, *args, expect_ok=False)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and contains in result.output, result.output
    return result.output


@pytest.mark.parametrize("damage", ["flipped", "truncated", "swapped public part"])
def test_a_tampered_row_answers_503_and_the_cli_names_it(app, client, settings, flow, rp,
                                                         parent, damage, keys_restored):
    victim = _row(app, "oidc", "RS256")
    if damage == "flipped":
        middle = len(victim.sealed_private) // 2
        char = "A" if victim.sealed_private[middle] != "A" else "B"
        sealed = victim.sealed_private[:middle] + char + victim.sealed_private[middle + 1:]
        _change_rows(app, where=[SigningKey.id == victim.id], sealed_private=sealed)
    elif damage == "truncated":
        _change_rows(app, where=[SigningKey.id == victim.id],
                     sealed_private=victim.sealed_private[:100])
    else:
        _change_rows(app, where=[SigningKey.id == victim.id],
                     public_pem=_row(app, "oidc", "ES256").public_pem)
    app.extensions["idp"]["keyring"].forget()
    _assert_unavailable(client, flow, rp, parent)
    before = _count(app)
    message = _one_line_failure(settings, "keys", "rotate", contains=victim.kid)
    assert "altered" in message
    assert _count(app) == before  # nothing written


def test_a_wrong_key_encryption_key_answers_503_and_writes_nothing(app, node, settings,
                                                                  keys_restored):
    wrong = new_key_encryption_key()
    _assert_unavailable(node(KEY_ENCRYPTION_KEY=wrong).test_client())
    before = _count(app)
    for args in (("keys", "rotate"), ("keys", "rotate", "--saml"), ("keys", "generate")):
        _one_line_failure({**settings, "KEY_ENCRYPTION_KEY": wrong}, *args,
                          contains="wrong IDP_KEY_ENCRYPTION_KEY")
    assert _count(app) == before  # no key sealed with a KEK the other nodes lack
    assert app.test_client().get("/oidc/jwks").status_code == 200  # the right one still works


def test_no_key_encryption_key_answers_503_and_production_refuses_to_start(node, settings,
                                                                          tmp_path):
    missing = {"KEY_ENCRYPTION_KEY": None, "KEY_ENCRYPTION_KEY_FILE": str(tmp_path / "none")}
    _assert_unavailable(node(**missing).test_client())
    _one_line_failure({**settings, **missing}, "keys", "rotate",
                      contains="no key-encryption key: set IDP_KEY_ENCRYPTION_KEY")
    production = {**settings, **missing, "ISSUER": "https://idp.example", "TESTING": False}
    _one_line_failure(production, "keys", "list", contains="no key-encryption key")
    _one_line_failure(production, "keys", "generate", contains="no key-encryption key")


def test_a_database_without_keys_answers_503_until_keys_generate(app, client, settings, flow,
                                                                rp, parent, keys_restored):
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(SigningKey.__table__.delete())
        bump(app.extensions["idp"]["store"])
    app.extensions["idp"]["keyring"].forget()
    _assert_unavailable(client, flow, rp, parent)
    _one_line_failure(settings, "keys", "rotate", contains="run `idp keys generate`")
    _one_line_failure(settings, "keys", "rotate", "--saml", contains="run `idp keys generate`")
    _one_line_failure(settings, "keys", "activate", "--saml", contains="no next SAML certificate")
    listed = run_idp(settings, "keys", "list")
    assert listed.output.strip() == "no signing keys in the database yet: run `idp keys generate`"
    created = run_json(settings, "keys", "generate")["created"]
    assert len(created) == 3 and created[2].startswith("saml-")
    # Every node (this one included) finds them within a second or two.
    assert eventually(lambda: client.get("/oidc/jwks").status_code == 200, timeout=3)
    assert client.get("/saml/metadata").status_code == 200
    assert flow.tokens_for(rp, parent)["id_token"]


def test_key_changes_wait_for_the_store_that_tells_the_other_nodes(app, settings, keys_restored):
    before = _count(app)
    store_down = {**settings, "REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens there
    for args in (("keys", "rotate"), ("keys", "rotate", "--saml")):
        _one_line_failure(store_down, *args, contains="store unreachable, nothing changed")
    assert _count(app) == before
