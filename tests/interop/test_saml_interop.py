"""SAML over real HTTP against the IdP under gunicorn: python3-saml (OneLogin, an SP
implementation independent of pysaml2) checks signatures and decrypts; the Téléservices
demo SP (pysaml2) runs as its own process."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from idp.db import db
from idp.saml.registry import register_sp
from tests.support.saml import keypair, post_form
from tests.support.served import HttpBrowser, free_port, serve_rp

pytestmark = pytest.mark.interop
SP = "https://onelogin-sp.example"


@pytest.fixture
def onelogin(app, served_idp, tmp_path):
    """python3-saml settings for an SP that signs requests and wants signed, encrypted
    assertions; registered at the served IdP from the metadata python3-saml writes."""
    key, cert = keypair(tmp_path, "onelogin")
    idp_metadata = requests.get(served_idp.url + "/saml/metadata", timeout=10).text
    idp = OneLogin_Saml2_IdPMetadataParser.parse(idp_metadata)["idp"]
    settings = {
        "strict": True,
        "sp": {"entityId": SP + "/metadata",
               "assertionConsumerService": {"url": SP + "/acs", "binding": C.BINDING_HTTP_POST},
               "singleLogoutService": {"url": SP + "/slo", "binding": C.BINDING_HTTP_REDIRECT},
               "NameIDFormat": C.NAMEID_PERSISTENT,
               "x509cert": _pem_body(cert), "privateKey": open(key).read()},
        "idp": idp,
        # The Response signature covers the encrypted assertion. python3-saml rejects the
        # signature of a pysaml2 "self-contained" encrypted assertion (see
        # idp/saml/responses.py), so this SP is registered with --sign response.
        "security": {"authnRequestsSigned": True, "logoutRequestSigned": True,
                     "wantAssertionsSigned": False, "wantMessagesSigned": True,
                     "wantAssertionsEncrypted": True, "wantNameId": True,
                     "signatureAlgorithm": C.RSA_SHA256, "digestAlgorithm": C.SHA256,
                     "rejectDeprecatedAlgorithm": True},
    }
    metadata = OneLogin_Saml2_Settings(settings).get_sp_metadata()
    metadata = metadata.decode() if isinstance(metadata, bytes) else metadata
    with app.app_context():
        register_sp(metadata=metadata, attributes="ent", sign_mode="response", name="OneLogin SP")
        db.session.commit()
    return settings


def _pem_body(path) -> str:
    return "".join(l for l in open(path).read().splitlines() if "CERTIFICATE" not in l)


def _request(post=None, get=None, script="/acs"):
    return {"https": "on", "http_host": "onelogin-sp.example", "server_port": "443",
            "script_name": script, "get_data": get or {}, "post_data": post or {}}


def test_python3_saml_sso_and_slo(onelogin, make):
    parent = make.account(with_pupils=1)
    auth = OneLogin_Saml2_Auth(_request(), onelogin)
    login_url = auth.login(return_to="relay-42")
    request_id = auth.get_last_request_id()
    browser = HttpBrowser()
    page = browser.sign_in(login_url, parent.identifier, parent.password)
    assert browser.visited("/connexion")
    action, fields = post_form(page.text)
    assert action == SP + "/acs" and fields["RelayState"] == "relay-42"

    acs = OneLogin_Saml2_Auth(_request(post=fields), onelogin)
    acs.process_response(request_id=request_id)
    assert acs.get_errors() == [], acs.get_last_error_reason()
    assert acs.is_authenticated()
    attributes = acs.get_friendlyname_attributes()
    assert attributes["FrEduCtId"] == [parent.public_id]
    assert attributes["FrEduCtPersonAffiliation"] == ["resp2d"]
    assert len(attributes["FrEduVecteur"]) == 1
    assert acs.get_nameid_format() == C.NAMEID_PERSISTENT

    logout_url = acs.logout(name_id=acs.get_nameid(), session_index=acs.get_session_index(),
                            name_id_format=C.NAMEID_PERSISTENT)
    answer = browser.http.get(logout_url, allow_redirects=False, timeout=15)
    assert answer.status_code == 303 and answer.headers["Location"].startswith(SP + "/slo")
    query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    slo = OneLogin_Saml2_Auth(_request(get=query, script="/slo"), onelogin)
    slo.process_slo(request_id=slo.get_last_request_id(), keep_local_session=True)
    assert slo.get_errors() == [], slo.get_last_error_reason()
    # The IdP session is over: the next sign-in asks for the password again.
    browser.open(OneLogin_Saml2_Auth(_request(), onelogin).login())
    assert urlsplit(browser.url).path in ("/connexion", "/choisir-profil")


def test_python3_saml_refuses_a_tampered_response(onelogin, make):
    account = make.account()
    auth = OneLogin_Saml2_Auth(_request(), onelogin)
    login_url = auth.login()
    browser = HttpBrowser()
    page = browser.sign_in(login_url, account.identifier, account.password)
    _, fields = post_form(page.text)
    import base64
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    fields["SAMLResponse"] = base64.b64encode(
        xml.replace(SP + "/acs", SP + "/acs-other").encode()).decode()
    acs = OneLogin_Saml2_Auth(_request(post=fields), onelogin)
    acs.process_response(request_id=auth.get_last_request_id())
    assert acs.get_errors() and not acs.is_authenticated()


@pytest.fixture
def teleservices(app, served_idp, tmp_path, monkeypatch):
    """The Téléservices demo SP as its own process, registered like `idp demo load` does."""
    monkeypatch.setenv("TELESERVICES_DIR", str(tmp_path / "teleservices"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("DEMO_TELESERVICES_URL", url)
    from clients.teleservices import sp_metadata

    with app.app_context():
        register_sp(metadata=sp_metadata(url), attributes="teleservices", name="Téléservices")
        db.session.commit()
    with serve_rp("clients.teleservices", port=port, issuer=served_idp.url,
                  clients_file=tmp_path / "unused.json", log_dir=tmp_path) as served:
        yield served


def test_teleservices_demo_sso_without_a_second_password(teleservices, onelogin, make):
    parent = make.account(with_pupils=2)
    browser = HttpBrowser()
    # Signed in once elsewhere (the python3-saml SP)...
    page = browser.sign_in(
        OneLogin_Saml2_Auth(_request(), onelogin).login(), parent.identifier, parent.password)
    assert post_form(page.text)[0] == SP + "/acs"
    # ...then Téléservices: no password, the attributes received on its page.
    home = browser.open(teleservices.url + "/")
    assert "Se connecter avec Connexion Scolarité" in home.text
    visits = sum("/connexion" in u for u in browser.history)
    browser.submit()
    page = browser.through_steps()
    assert sum("/connexion" in u for u in browser.history) == visits  # no second password
    page = browser.submit()  # the IdP's auto-post page (no script in this browser)
    assert page.url.startswith(teleservices.url) and "Attributs reçus" in page.text, \
        page.text[:2000] + teleservices.log_tail()
    assert parent.public_id in page.text and page.text.count("2|Martin|Camille|") == 2


def test_logout_at_one_sp_logs_the_family_out_of_teleservices(teleservices, onelogin, make):
    """python3-saml SP logs out: the IdP sends the browser to Téléservices with a signed
    LogoutRequest (its local session ends), then the python3-saml SP gets Success."""
    parent = make.account(with_pupils=1)
    browser = HttpBrowser()
    auth = OneLogin_Saml2_Auth(_request(), onelogin)
    page = browser.sign_in(auth.login(), parent.identifier, parent.password)
    acs = OneLogin_Saml2_Auth(_request(post=post_form(page.text)[1]), onelogin)
    acs.process_response(request_id=auth.get_last_request_id())
    assert acs.is_authenticated(), acs.get_last_error_reason()
    browser.open(teleservices.url + "/")
    browser.submit()
    browser.through_steps()
    assert "Attributs reçus" in browser.submit().text  # signed in at Téléservices too

    logout_url = acs.logout(name_id=acs.get_nameid(), session_index=acs.get_session_index(),
                            name_id_format=C.NAMEID_PERSISTENT, return_to="bye")
    assert browser.open(logout_url, stop_at=SP + "/slo") is None, \
        (browser.url, teleservices.log_tail())
    query = {k: v[0] for k, v in parse_qs(urlsplit(browser.url).query).items()}
    assert any(u.startswith(teleservices.url + "/slo?SAMLRequest=") for u in browser.history)
    assert "Se connecter avec Connexion Scolarité" in browser.open(teleservices.url + "/").text
    assert query["RelayState"] == "bye"
    slo = OneLogin_Saml2_Auth(_request(get=query, script="/slo"), onelogin)
    slo.process_slo(keep_local_session=True)
    assert slo.get_errors() == [], slo.get_last_error_reason()
