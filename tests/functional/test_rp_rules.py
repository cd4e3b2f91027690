"""One set of rules per kind of relying party: registering and editing refuse the same
bad input, whether it comes through the services, the `idp clients` commands or the
console (idp.oidc.clients.validate_client, idp.saml.registry.validate_sp)."""
from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import select

from idp.admin import oidc_clients, saml_sps
from idp.db import db
from idp.models import OIDCClient, SAMLServiceProvider
from idp.oidc.clients import RegistrationError, register_client, validate_client
from idp.saml.registry import MAX_METADATA_BYTES
from idp.saml.registry import RegistrationError as SamlRegistrationError
from idp.saml.registry import register_sp

from ..support.admin import sp_metadata
from ..support.cli import run_idp

OK_URI = "https://ent.example/cb"


def _refused_everywhere(app, make, settings, register: dict, edit: dict, cli_add: list,
                        cli_edit: list | None, reason: str):
    """The same refusal from register_client, update_client and both commands; nothing
    written."""
    rp = make.oidc_client(name="ENT", redirect_uris=[OK_URI])
    with app.app_context():
        with pytest.raises(RegistrationError, match=re.escape(reason)):
            register_client(**{"name": "Autre", "redirect_uris": [OK_URI]} | register)
        db.session.rollback()
        with pytest.raises(RegistrationError, match=re.escape(reason)):
            oidc_clients.update_client(rp.client_id, **edit)
        db.session.rollback()
    added = run_idp(settings, "clients", "add-oidc", "--redirect-uri", OK_URI, *cli_add,
                    expect_ok=False)
    assert added.exit_code == 1 and reason in added.output, added.output
    if cli_edit is not None:
        edited = run_idp(settings, "clients", "edit-oidc", rp.client_id, *cli_edit,
                         expect_ok=False)
        assert edited.exit_code == 1 and reason in edited.output, edited.output
    with app.app_context():
        (row,) = db.session.scalars(select(OIDCClient))
        assert row.name == "ENT" and row.scopes[0] == "openid" and not row.public


def test_the_openid_scope_is_required_at_registration_too(app, make, settings):
    _refused_everywhere(app, make, settings, {"scopes": ["profile"]}, {"scopes": ["profile"]},
                        ["--name", "Autre", "--scope", "profile"], ["--scope", "profile"],
                        "the openid scope is required")


def test_a_public_client_never_authenticates_with_a_secret(app, make, settings):
    # `edit-oidc` has no --public (the method decides: none makes a client public); the
    # edit service takes public=True and refuses it with a secret method, like add-oidc.
    _refused_everywhere(
        app, make, settings, {"public": True, "token_auth_method": "client_secret_basic"},
        {"public": True, "token_endpoint_auth_method": "client_secret_basic"},
        ["--name", "Autre", "--public", "--token-auth-method", "client_secret_basic"], None,
        "public clients, and only they, use the method 'none'")


def test_names_are_trimmed_and_compared_trimmed_on_both_sides(app, make, settings):
    rp = make.oidc_client(name="ENT", redirect_uris=[OK_URI])
    other = make.oidc_client(name="PRONOTE", redirect_uris=[OK_URI])
    with app.app_context():
        with pytest.raises(RegistrationError, match="already exists"):
            register_client(name=" ENT ", redirect_uris=[OK_URI])
        db.session.rollback()
        with pytest.raises(RegistrationError, match="already exists"):
            oidc_clients.update_client(other.client_id, name=" ENT ")
        db.session.rollback()
        for blank in ("", "   "):
            with pytest.raises(RegistrationError, match="a client needs a name"):
                register_client(name=blank, redirect_uris=[OK_URI])
            db.session.rollback()
            with pytest.raises(RegistrationError, match="a client needs a name"):
                oidc_clients.update_client(rp.client_id, name=blank)
            db.session.rollback()
    added = run_idp(settings, "clients", "add-oidc", "--name", " ENT ", "--redirect-uri",
                    OK_URI, expect_ok=False)
    assert added.exit_code == 1 and "already exists" in added.output
    edited = run_idp(settings, "clients", "edit-oidc", other.client_id, "--name", " ENT ",
                     expect_ok=False)
    assert edited.exit_code == 1 and "already exists" in edited.output
    run_idp(settings, "clients", "add-oidc", "--name", "  Orientation ", "--redirect-uri", OK_URI)
    run_idp(settings, "clients", "edit-oidc", other.client_id, "--name", " Vie scolaire  ")
    with app.app_context():
        names = set(db.session.scalars(select(OIDCClient.name)))
    assert names == {"ENT", "Orientation", "Vie scolaire"}


def test_console_rules_hold_for_the_commands_too(app, make, settings):
    """What only the console refused (more than 20 addresses, a name over 120 characters,
    a jwks_uri that is not https) is refused by the commands, registering and editing."""
    rp = make.oidc_client(name="ENT", redirect_uris=[OK_URI])
    many = [arg for i in range(21) for arg in ("--redirect-uri", f"https://ent.example/{i}")]
    for add_args, edit_args, reason in [
        (["--name", "Autre", *many], many, "at most 20 URIs"),
        (["--name", "N" * 121, "--redirect-uri", OK_URI], ["--name", "N" * 121],
         "at most 120 characters"),
        (["--name", "Autre", "--redirect-uri", OK_URI, "--token-auth-method",
          "private_key_jwt", "--jwks-uri", "http://keys.example/jwks"],
         ["--token-auth-method", "private_key_jwt", "--jwks-uri", "http://keys.example/jwks"],
         "http is allowed only for localhost"),
    ]:
        added = run_idp(settings, "clients", "add-oidc", *add_args, expect_ok=False)
        assert added.exit_code == 1 and reason in added.output, added.output
        edited = run_idp(settings, "clients", "edit-oidc", rp.client_id, *edit_args,
                         expect_ok=False)
        assert edited.exit_code == 1 and reason in edited.output, edited.output
    with app.app_context():
        (row,) = db.session.scalars(select(OIDCClient))
        assert row.redirect_uris == [OK_URI] and row.jwks_uri is None


def test_registration_and_edit_values_give_the_same_problems(app, make):
    rp = make.oidc_client(name="ENT", redirect_uris=[OK_URI])
    bad = {"name": " ENT ", "redirect_uris": ["http://ent.example/cb"],
           "post_logout_redirect_uris": [], "backchannel_logout_uri": "https://ent.example/#x",
           "scopes": ["email"], "token_endpoint_auth_method": "client_secret_post",
           "public": True, "jwks_uri": None, "jwks": None, "pairwise": False,
           "id_token_signed_response_alg": "HS256"}
    with app.app_context():
        row = db.session.scalar(select(OIDCClient))
        as_new = validate_client(bad)
        other = validate_client(bad, row_id=row.id + 1000)
        as_itself = validate_client(bad, row_id=row.id)
    expected = {"name", "redirect_uris", "backchannel_logout_uri", "scopes",
                "token_endpoint_auth_method", "id_token_signed_response_alg"}
    assert set(as_new) == set(other) == expected
    assert set(as_itself) == expected - {"name"}  # its own name is not a duplicate
    assert rp.name == "ENT"


# -- console: the same refusals, in French ------------------------------------------------
GOOD = {"name": "Soutien scolaire", "redirect_uris": OK_URI, "post_logout_redirect_uris": "",
        "backchannel_logout_uri": "", "scopes": ["openid"],
        "token_endpoint_auth_method": "client_secret_basic", "jwks_uri": "",
        "consent": "ask", "id_token_alg": "RS256"}


def test_console_register_and_edit_refuse_alike(app, make, operator):
    rp = make.oidc_client(name="ENT", redirect_uris=[OK_URI])
    make.oidc_client(name="Orientation", redirect_uris=[OK_URI])
    edit_url = f"/admin/services/oidc/{rp.client_id}"
    for changes, reason in [
        ({"scopes": ["profile"]}, "Le scope openid est obligatoire."),
        ({"name": " ENT "}, "Un service porte déjà ce nom"),
        ({"name": "   "}, "Donnez un nom au service."),
        ({"token_endpoint_auth_method": "private_key_jwt"},
         "Indiquez l'adresse des clés publiques du service."),
        ({"jwks_uri": "http://keys.example/jwks"}, "http n'est permis que pour localhost"),
    ]:
        operator.get("/admin/services/oidc/nouveau")
        new = operator.submit("/admin/services/oidc/nouveau", GOOD | changes)
        assert new.status_code == 400 and reason in html.unescape(new.text), reason
        if changes.get("name") == " ENT ":
            changes = {"name": " Orientation "}  # edit ENT to the name of another one
        operator.get(edit_url)
        edit = operator.submit(edit_url, GOOD | {"name": "ENT"} | changes)
        assert edit.status_code == 400 and reason in html.unescape(edit.text), reason
    with app.app_context():
        row = db.session.scalar(select(OIDCClient).where(OIDCClient.client_id == rp.client_id))
        assert row.name == "ENT" and row.scopes[0] == "openid"
        assert set(db.session.scalars(select(OIDCClient.name))) == {"ENT", "Orientation"}


# -- SAML ---------------------------------------------------------------------------------
def _oversize(entity_id: str = "https://sp.example/sp") -> str:
    xml = sp_metadata(entity_id)
    return xml.replace("<md:SPSSODescriptor", "<!--" + "x" * MAX_METADATA_BYTES + "-->"
                       "<md:SPSSODescriptor", 1)


def test_oversize_metadata_is_refused_on_registration_and_on_refresh(app, make, settings,
                                                                    tmp_path):
    sp = make.saml_sp(entity_id="https://sp.example/sp")
    big = _oversize()
    with app.app_context():
        for update in (False, True):
            with pytest.raises(SamlRegistrationError, match="metadata larger than 1 MiB"):
                register_sp(metadata=big, attributes="teleservices", update=update)
            db.session.rollback()
    path = tmp_path / "big.xml"
    path.write_text(big)
    for extra in ([], ["--update"]):
        result = run_idp(settings, "clients", "add-saml", "--metadata", str(path),
                         "--attributes", "teleservices", *extra, expect_ok=False)
        assert result.exit_code == 1 and "metadata larger than 1 MiB" in result.output
    with app.app_context():
        (row,) = db.session.scalars(select(SAMLServiceProvider))
        assert row.entity_id == sp.entity_id and len(row.metadata_xml) < MAX_METADATA_BYTES


def test_console_refuses_oversize_metadata_on_refresh(app, make, operator):
    sp = make.saml_sp(entity_id="https://sp.example/sp")
    page = operator.get(f"/admin/services/saml/{sp.id}")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = operator.follow(operator.client.post(
        f"/admin/services/saml/{sp.id}/metadonnees", content_type="multipart/form-data",
        data={"csrf_token": token, "metadata_url": "",
              "metadata_file": (io.BytesIO(_oversize().encode()), "sp.xml")}))
    assert response.status_code == 400
    assert "Métadonnées refusées : metadata larger than 1 MiB" in html.unescape(response.text)


def test_saml_names_and_encryption_refused_alike(app, make, settings, tmp_path):
    sp = make.saml_sp(entity_id="https://sp.example/sp", name="Téléservices")
    path = tmp_path / "other.xml"
    path.write_text(sp_metadata("https://other.example/sp"))
    for args, reason in [(["--name", "   "], "a service provider needs a name"),
                         (["--name", "N" * 121], "at most 120 characters"),
                         (["--encrypt"], "--encrypt needs an encryption key")]:
        added = run_idp(settings, "clients", "add-saml", "--metadata", str(path),
                        "--attributes", "teleservices", *args, expect_ok=False)
        assert added.exit_code == 1 and reason in added.output, added.output
        edited = run_idp(settings, "clients", "edit-saml", sp.entity_id, *args,
                         expect_ok=False)
        assert edited.exit_code == 1 and reason in edited.output, edited.output
    run_idp(settings, "clients", "add-saml", "--metadata", str(path), "--attributes",
            "teleservices", "--name", "  Autre service ")
    run_idp(settings, "clients", "edit-saml", sp.entity_id, "--name", " Téléservices 2 ")
    with app.app_context():
        names = set(db.session.scalars(select(SAMLServiceProvider.name)))
        assert names == {"Autre service", "Téléservices 2"}
        with pytest.raises(SamlRegistrationError, match="a service provider needs a name"):
            saml_sps.update_sp(db.session.scalar(select(SAMLServiceProvider).where(
                SAMLServiceProvider.entity_id == sp.entity_id)), name=" ")
