"""SAML SSO with a real pysaml2 SP (Saml2Client) against the IdP in process."""
from __future__ import annotations

import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT

from tests.support.saml import PySamlSP, post_form, saml_keys_ready, send  # noqa: F401


@pytest.fixture
def idp_metadata(client):
    response = client.get("/saml/metadata")
    assert response.status_code == 200
    return response.text


@pytest.fixture
def new_sp(app, tmp_path, idp_metadata):
    def make(host="sp.example", register=True, **kw):
        options = {k: kw.pop(k) for k in ("sign_requests", "encryption", "name_id_formats")
                   if k in kw}
        sp = PySamlSP(tmp_path / host, idp_metadata, host=host, **options)
        return sp.register(app, **kw) if register else sp
    return make


def sign_in_via(browser, sp, account, binding=BINDING_HTTP_REDIRECT, **kw):
    """AuthnRequest -> WAYF -> sign-in form -> the auto-post page to the SP."""
    req_id, args = sp.authn_request(binding, **kw)
    page = browser.follow(send(browser.client, args))
    if page.request.path == "/choisir-profil":
        page = browser.submit("/choisir-profil", {"profile": "parent", "academy": "nancy-metz"})
    if page.request.path == "/connexion":
        page = browser.submit("/connexion", {"identifier": account.identifier,
                                             "password": account.password})
    assert page.status_code == 200, page.text[:800]
    return req_id, page


def test_sso_redirect_signed_encrypted_response_with_attributes(browser, make, new_sp):
    sp = new_sp()
    parent = make.account(with_pupils=2)
    req_id, page = sign_in_via(browser, sp, parent)
    assert "SAMLResponse" in page.text and 'src="/static/js/saml-post.js"' in page.text
    result = sp.consume(page.text, req_id)
    assert "EncryptedAssertion" in result.raw_xml and parent.public_id not in result.raw_xml
    assert "aes256-gcm" in result.raw_xml and "rsa-oaep" in result.raw_xml
    assert result.assertion.signature is not None
    assert result.response.signature is not None  # sign mode "both"
    assert result.relay_state == "rs-1"
    names = {a.friendly_name: [v.text for v in a.attribute_value]
             for s in result.assertion.attribute_statement for a in s.attribute}
    assert names["FrEduCtId"] == [parent.public_id]
    assert names["FrEduCtPersonAffiliation"] == ["resp2d"]
    assert len(names["FrEduVecteur"]) == 2 and all(v.startswith("2|Martin|Camille|")
                                                  for v in names["FrEduVecteur"])
    assert "FrEduCtDateNaissance" not in names  # not registered for this SP
    assert result.name_id.format == NAMEID_FORMAT_PERSISTENT
