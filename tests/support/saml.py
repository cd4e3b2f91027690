"""A real pysaml2 service provider (saml2.client.Saml2Client) driving the IdP in process.

`PySamlSP` has its own keys and metadata, reads the IdP's metadata from /saml/metadata,
builds AuthnRequests / LogoutRequests (Redirect or POST binding, signed or not) and
consumes the IdP's answers as a real SP does: signatures verified, assertion decrypted,
InResponseTo, Audience, Recipient and lifetimes checked by pysaml2.
"""
from __future__ import annotations

import base64
import datetime
import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from idp.db import db
from idp.saml import crypto_backend
from idp.saml.registry import register_sp

ALGS = {"signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256}
_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@pytest.fixture(scope="session", autouse=True)
def saml_keys_ready(app):
    """The in-process crypto backend for every pysaml2 entity (the IdP's SAML key is in
    the database with the others: the `app` fixture)."""
    crypto_backend.install()


def keypair(directory: Path, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


def post_form(page_html: str) -> tuple[str, dict]:
    """(action, fields) of the auto-posting page the IdP answers with."""
    action = _ACTION.search(page_html)
    assert action, f"no POST form on the page:\n{page_html[:1500]}"
    fields = {html.unescape(k): html.unescape(v) for k, v in _INPUT.findall(page_html)}
    return html.unescape(action.group(1)), fields


class PySamlSP:
    """One SP: entity https://<host>/sp, ACS https://<host>/acs (index 0) and /acs2 (1)."""

    def __init__(self, tmp: Path, idp_metadata: str, host: str = "sp.example",
                 sign_requests: bool = False, encryption: bool = True,
                 name_id_formats=(NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT),
                 slo_bindings=(BINDING_HTTP_REDIRECT, BINDING_HTTP_POST)):
        self.host = host
        self.entity_id = f"https://{host}/sp"
        self.acs = f"https://{host}/acs"
        self.slo = f"https://{host}/slo"
        tmp.mkdir(parents=True, exist_ok=True)
        key, cert = keypair(tmp, host)
        (tmp / "idp.xml").write_text(idp_metadata)
        conf = {
            "entityid": self.entity_id, "key_file": key, "cert_file": cert,
            "metadata": {"local": [str(tmp / "idp.xml")]},
            **ALGS,
            "service": {"sp": {
                **ALGS,
                "endpoints": {
                    "assertion_consumer_service": [(self.acs, BINDING_HTTP_POST),
                                                   (self.acs + "2", BINDING_HTTP_POST)],
                    "single_logout_service": [(self.slo, b) for b in slo_bindings]},
                "authn_requests_signed": sign_requests,
                "logout_requests_signed": True,
                "want_response_signed": False, "want_assertions_signed": True,
                "allow_unsolicited": False,
                "name_id_format": list(name_id_formats),
            }},
        }
        if encryption:
            conf["encryption_keypairs"] = [{"key_file": key, "cert_file": cert}]
        self.config = SPConfig().load(conf)
        self.client = Saml2Client(config=self.config)
        self.metadata = create_metadata_string(None, config=self.config).decode()
        self.idp_entity = next(iter(self.client.metadata.identity_providers()))

    def register(self, app, attributes="teleservices", sign="both", encrypt=None, **kw):
        with app.app_context():
            register_sp(metadata=self.metadata, attributes=attributes, sign_mode=sign,
                        encrypt=encrypt, name=f"SP {self.host}", **kw)
            db.session.commit()
        return self

    def _sso(self, binding: str) -> str:
        return self.client.metadata.single_sign_on_service(self.idp_entity, binding)[0]["location"]

    def authn_request(self, binding=BINDING_HTTP_REDIRECT, sign=None, relay_state="rs-1",
                      **kwargs) -> tuple[str, dict]:
        """(request id, HTTP arguments): `url` + `query` for Redirect, `url` + `data` for POST.

        kwargs go to the AuthnRequest (force_authn="true", is_passive="true",
        nameid_format=..., assertion_consumer_service_url=..., destination=...)."""
        destination = kwargs.pop("destination", None) or self._sso(binding)
        sign = self.config.getattr("authn_requests_signed", "sp") if sign is None else sign
        xml_sign = sign and binding == BINDING_HTTP_POST
        req_id, req = self.client.create_authn_request(destination, sign=xml_sign, **ALGS_KW,
                                                       **kwargs)
        return req_id, self.transport(binding, str(req), relay_state, sign,
                                      self._sso(binding))

    def transport(self, binding, xml: str, relay_state, sign: bool, url: str,
                  field="SAMLRequest") -> dict:
        if binding == BINDING_HTTP_REDIRECT:
            info = self.client.apply_binding(binding, xml, url, relay_state,
                                             response=field == "SAMLResponse", sign=sign,
                                             sigalg=SIG_RSA_SHA256)
            location = dict(info["headers"])["Location"]
            parts = urlsplit(location)
            return {"url": parts.path, "query": parts.query, "location": location}
        data = {field: base64.b64encode(xml.encode()).decode()}
        if relay_state:
            data["RelayState"] = relay_state
        return {"url": urlsplit(url).path, "data": data}

    def consume(self, page_html: str, req_id: str):
        """What the SP's ACS does with the posted answer; returns pysaml2's AuthnResponse."""
        action, fields = post_form(page_html)
        assert action in (self.acs, self.acs + "2"), action
        response = self.client.parse_authn_request_response(
            fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: "/"})
        assert response is not None
        response.raw_xml = base64.b64decode(fields["SAMLResponse"]).decode()
        response.relay_state = fields.get("RelayState")
        response.action = action
        return response

    def logout_request(self, name_id, session_index=None, binding=BINDING_HTTP_REDIRECT,
                       sign=True, relay_state="bye"):
        if isinstance(name_id, str):
            name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id)
        url = self.client.metadata.single_logout_service(
            self.idp_entity, binding, "idpsso")[0]["location"]
        req_id, req = self.client.create_logout_request(
            url, self.idp_entity, name_id=name_id,
            session_indexes=[session_index] if session_index else None,
            sign=sign and binding == BINDING_HTTP_POST, **ALGS_KW)
        return req_id, self.transport(binding, str(req), relay_state, sign, url)


ALGS_KW = {"sign_alg": SIG_RSA_SHA256, "digest_alg": DIGEST_SHA256}


def send(client, args: dict):
    """Send transport arguments through a Flask test client."""
    if "data" in args:
        return client.post(args["url"], data=args["data"])
    return client.get(args["url"] + "?" + args["query"])


def decode_redirect_query(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def idp_metadata(client):
    response = client.get("/saml/metadata")
    assert response.status_code == 200
    return response.text


@pytest.fixture
def new_sp(app, tmp_path, idp_metadata):
    """new_sp(host=..., sign_requests=.., encryption=.., slo_bindings=.., register=False,
    attributes=.., sign=.., encrypt=..): a PySamlSP, registered unless register=False."""
    def make(host="sp.example", register=True, **kw):
        options = {k: kw.pop(k) for k in ("sign_requests", "encryption", "name_id_formats",
                                          "slo_bindings") if k in kw}
        sp = PySamlSP(tmp_path / host, idp_metadata, host=host, **options)
        return sp.register(app, **kw) if register else sp
    return make


def sign_in_via(browser, sp, account, binding=BINDING_HTTP_REDIRECT, **kw):
    """Send `sp`'s AuthnRequest, then the one sign-in driver (WAYF, password, the step
    pages): (request id, the page the IdP answers with, normally its auto-post form)."""
    req_id, args = sp.authn_request(binding, **kw)
    return req_id, browser.sign_in(account, start=send(browser.client, args), steps=True)


def attributes_of(result) -> dict:
    return {a.friendly_name: [v.text for v in a.attribute_value]
            for s in result.assertion.attribute_statement for a in s.attribute}
