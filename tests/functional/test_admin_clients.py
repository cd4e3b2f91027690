"""Operators register and edit relying parties in the console. Bad input (a redirect URI
that is not absolute https, a duplicate name, metadata that is not SAML) shows the form
again with the reason beside the field and registers nothing; a secret is shown once."""
from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from idp.db import db
from idp.models import AuditEvent, OIDCClient, SAMLServiceProvider
from idp.oidc.clients import hash_secret

from ..support.admin import sp_metadata
from ..support.oidc import authorize_params, pkce_pair

GOOD = {"name": "ENT du collège", "redirect_uris": "https://ent.example/callback\n",
        "post_logout_redirect_uris": "https://ent.example/", "backchannel_logout_uri": "",
        "scopes": ["openid", "profile", "education"],
        "token_endpoint_auth_method": "client_secret_basic", "jwks_uri": "",
        "consent": "trusted", "id_token_alg": "RS256"}


def rows(app, model):
    with app.app_context():
        return list(db.session.scalars(select(model)))


def audit_text(app) -> str:
    with app.app_context():
        return " ".join(f"{e.action} {e.actor} {e.target} {e.details}"
                        for e in db.session.scalars(select(AuditEvent)))


def unescaped(page) -> str:
    return html.unescape(page.text)


def register(browser, **changes):
    browser.get("/admin/services/oidc/nouveau")
    return browser.submit("/admin/services/oidc/nouveau", GOOD | changes)


def test_register_a_client_shows_the_secret_once_and_keeps_its_hash(app, operator):
    page = register(operator)
    assert page.status_code == 200 and "ENT du collège" in unescaped(page)
    secret = re.search(r'<code class="secret">([^<]+)</code>', page.text).group(1)
    (row,) = rows(app, OIDCClient)
    assert row.secret_hash == hash_secret(secret) and row.trusted_for_school
    assert row.redirect_uris == ["https://ent.example/callback"]
    assert row.scopes == ["openid", "profile", "education"]
    edit = operator.get(f"/admin/services/oidc/{row.client_id}")
    assert edit.status_code == 200 and secret not in edit.text  # never shown again
    trail = audit_text(app)
    assert "oidc_client_registered staff:ops.alice" in trail and secret not in trail


@pytest.mark.parametrize("uris, reason", [
    ("http://ent.example/callback", "http n'est permis que pour localhost"),
    ("/callback", "n'est pas une adresse absolue"),
    ("ent.example/callback", "n'est pas une adresse absolue"),
    ("https://ent.example/cb#frag", "ne doit pas contenir de fragment"),
    ("javascript:alert(1)", "n'est pas une adresse absolue"),
    ("", "Indiquez au moins une adresse de retour"),
])
def test_bad_redirect_uris_show_the_form_again_and_register_nothing(app, operator, uris, reason):
    page = register(operator, redirect_uris=uris)
    assert page.status_code == 400
    assert reason in unescaped(page) and 'aria-invalid="true"' in page.text
    assert "ENT du collège" in unescaped(page)  # what was typed is kept
    assert rows(app, OIDCClient) == []


def test_http_is_accepted_for_localhost(app, operator):
    page = register(operator, redirect_uris="http://localhost:8080/cb\nhttp://127.0.0.1/cb")
    assert page.status_code == 200
    assert rows(app, OIDCClient)[0].redirect_uris == ["http://localhost:8080/cb",
                                                      "http://127.0.0.1/cb"]


def test_a_duplicate_name_is_refused(app, operator, make):
    make.oidc_client(name="ENT du collège")
    page = register(operator)
    assert page.status_code == 400 and "Un service porte déjà ce nom" in unescaped(page)
    assert len(rows(app, OIDCClient)) == 1


def test_other_bad_fields(app, operator):
    page = register(operator, scopes=["profile"], token_endpoint_auth_method="private_key_jwt")
    assert page.status_code == 400
    assert "Le scope openid est obligatoire" in unescaped(page)
    assert "Indiquez l'adresse des clés publiques" in unescaped(page)
    page = register(operator, backchannel_logout_uri="http://rp.example/logout")
    assert page.status_code == 400 and "http n'est permis que pour localhost" in unescaped(page)
    assert rows(app, OIDCClient) == []


def test_edit_disable_and_rotate(app, operator, make):
    rp = make.oidc_client(name="PRONOTE", redirect_uris=["https://pronote.example/cb"])
    url = f"/admin/services/oidc/{rp.client_id}"
    operator.get(url)
    page = operator.submit(url, GOOD | {"name": "PRONOTE", "consent": "ask", "pairwise": "y",
                                        "redirect_uris": "https://pronote.example/cb\nhttps://pronote.example/cb2"})
    assert page.status_code == 200 and "Modifications enregistrées" in unescaped(page)
    (row,) = rows(app, OIDCClient)
    assert row.redirect_uris[1] == "https://pronote.example/cb2" and row.pairwise
    assert not row.trusted_for_school
    # A bad edit changes nothing.
    bad = operator.submit(url, GOOD | {"name": "PRONOTE", "redirect_uris": "http://pronote.example/cb"})
    assert bad.status_code == 400
    assert rows(app, OIDCClient)[0].redirect_uris[0] == "https://pronote.example/cb"
    # Rotation: a new secret, once; the old one stops working.
    operator.get(url)
    page = operator.submit(f"{url}/secret", {})
    secret = re.search(r'<code class="secret">([^<]+)</code>', page.text).group(1)
    row = rows(app, OIDCClient)[0]
    assert row.secret_hash == hash_secret(secret) != hash_secret(rp.client_secret)
    # Disabled: the client's requests are refused at once.
    params = authorize_params(rp, challenge=pkce_pair()[1])
    assert app.test_client().get("/oidc/authorize", query_string=params).status_code == 302
    operator.get(url)
    operator.submit(f"{url}/etat", {})
    assert not rows(app, OIDCClient)[0].enabled
    refused = app.test_client().get("/oidc/authorize", query_string=params)
    assert refused.status_code == 400 and not refused.location
    trail = audit_text(app)
    assert "oidc_client_secret_rotated staff:ops.alice" in trail and secret not in trail
    assert "oidc_client_disabled staff:ops.alice" in trail


def test_unknown_client_id_is_404(operator):
    assert operator.get("/admin/services/oidc/nope").status_code == 404


# -- SAML -------------------------------------------------------------------------------
def upload_sp(browser, metadata: bytes | None, **fields):
    page = browser.get("/admin/services/saml/nouveau")
    data = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1),
            "metadata_url": "", "name": "", "profile": "teleservices", "sign_mode": "both",
            "encrypt": "auto", **fields}
    if metadata is not None:
        data["metadata_file"] = (io.BytesIO(metadata), "sp.xml")
    return browser.follow(browser.client.post("/admin/services/saml/nouveau", data=data,
                                              content_type="multipart/form-data"))


@pytest.mark.parametrize("metadata, reason", [
    (b"<md:EntityDescriptor", "not well-formed XML"),
    (b"<html><body>not metadata</body></html>", "EntityDescriptor"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "DOCTYPE"),
    (sp_metadata().replace("SPSSODescriptor", "IDPSSODescriptor").encode(), "Métadonnées refusées"),
    (b"\xff\xfe\x00garbage", "UTF-8"),
])
def test_invalid_metadata_shows_the_form_again_and_registers_nothing(app, operator, metadata, reason):
    page = upload_sp(operator, metadata)
    assert page.status_code == 400
    assert "Métadonnées refusées" in unescaped(page) and reason in unescaped(page)
    assert rows(app, SAMLServiceProvider) == []


def test_register_edit_and_disable_a_saml_sp(app, operator):
    page = upload_sp(operator, sp_metadata(name="Téléservices").encode())
    assert page.status_code == 200, page.text[:300]
    (row,) = rows(app, SAMLServiceProvider)
    assert row.name == "Téléservices" and "FrEduCtId" in row.attributes and not row.encrypt
    again = upload_sp(operator, sp_metadata().encode())
    assert again.status_code == 400 and "déjà enregistré" in unescaped(again)
    url = f"/admin/services/saml/{row.id}"
    operator.get(url)
    page = operator.submit(url, {"name": "Téléservices", "profile": "", "attributes": ["FrEduCtId", "sn"],
                                 "sign_mode": "assertion", "encrypt": "no"})
    assert page.status_code == 200 and "Modifications enregistrées" in unescaped(page)
    row = rows(app, SAMLServiceProvider)[0]
    assert row.attributes == ["FrEduCtId", "sn"] and row.sign_mode == "assertion"
    # Encryption needs a key in the metadata: refused, nothing changed.
    bad = operator.submit(url, {"name": "Téléservices", "profile": "", "attributes": ["FrEduCtId"],
                                "sign_mode": "both", "encrypt": "yes"})
    assert bad.status_code == 400 and "clé de chiffrement dans les métadonnées" in unescaped(bad)
    assert rows(app, SAMLServiceProvider)[0].sign_mode == "assertion"
    operator.get(url)
    operator.submit(f"{url}/etat", {})
    assert not rows(app, SAMLServiceProvider)[0].enabled
    trail = audit_text(app)
    assert "saml_sp_registered staff:ops.alice" in trail
    assert "saml_sp_updated staff:ops.alice" in trail and "saml_sp_disabled staff:ops.alice" in trail


def test_metadata_needs_a_file_or_a_url_not_both(app, operator):
    page = upload_sp(operator, None)
    assert page.status_code == 400 and "l'un ou l'autre" in unescaped(page)
    page = upload_sp(operator, sp_metadata().encode(), metadata_url="https://sp.example/md")
    assert page.status_code == 400 and "l'un ou l'autre" in unescaped(page)
    page = upload_sp(operator, None, metadata_url="http://sp.example/md")
    assert page.status_code == 400 and "http n'est permis que pour localhost" in unescaped(page)
    page = upload_sp(operator, sp_metadata().encode(), profile="", attributes=[])
    assert page.status_code == 400 and "Choisissez un profil" in unescaped(page)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SAMLServiceProvider)) == 0


def test_metadata_from_its_url_over_real_http(app, operator):
    """The console fetches the metadata once, at registration (no fetch at sign-in)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = sp_metadata("https://ent.example/sp", name="ENT par URL").encode()

    class Metadata(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path != "/metadata.xml":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        missing = upload_sp(operator, None, metadata_url=f"{base}/nothing.xml")
        assert missing.status_code == 400 and "cannot fetch" in unescaped(missing)
        assert rows(app, SAMLServiceProvider) == []
        page = upload_sp(operator, None, metadata_url=f"{base}/metadata.xml")
        assert page.status_code == 200, unescaped(page)[:500]
    finally:
        server.shutdown()
    (row,) = rows(app, SAMLServiceProvider)
    assert row.name == "ENT par URL" and row.metadata_source == f"{base}/metadata.xml"


def test_the_list_says_in_french_what_a_saml_sp_gets_signed(app, operator):
    """Found by the Chromium walk: the list showed the stored value ("both, chiffré")."""
    assert upload_sp(operator, sp_metadata(name="Téléservices").encode()).status_code == 200
    page = unescaped(operator.get("/admin/services"))
    assert "<td>La réponse et l'assertion</td>" in page
    assert "<td>both" not in page
