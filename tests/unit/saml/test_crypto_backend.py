"""idp.saml.crypto_backend with real keys, a real pysaml2 IdP and SP, and no xmlsec1.

Every test runs with process spawning made to fail (the one patch here): it asserts that
pysaml2 never reaches for the xmlsec1 program once the backend is installed.
"""
import base64
import datetime
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from lxml import etree

try:
    from idp.saml import crypto_backend, xml_safety
except ModuleNotFoundError:  # plain `pytest` does not put the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from idp.saml import crypto_backend, xml_safety

import saml2.algsupport
import saml2.sigver
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.client import Saml2Client
from saml2.config import Config, IdPConfig, SPConfig
from saml2.saml import AUTHN_PASSWORD_PROTECTED as PASSWORD
from saml2.saml import NAMEID_FORMAT_TRANSIENT
from saml2.server import Server
from saml2.sigver import DecryptError, SignatureError
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

IDP, SP = "https://idp.example.test/saml", "https://sp.example.test/saml"
SSO, ACS = f"{IDP}/sso", f"{SP}/acs"
NS = {"ds": "http://www.w3.org/2000/09/xmldsig#", "xenc": "http://www.w3.org/2001/04/xmlenc#",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion", "samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}
RESPONSE = "urn:oasis:names:tc:SAML:2.0:protocol:Response"
MD = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{eid}">
  <md:{role} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    {endpoint}
  </md:{role}>
</md:EntityDescriptor>"""


def _keypair(directory, name):
    """RSA-2048 key + self-signed certificate as PEM files; returns (key, cert, cert b64)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    return str(key_file), str(cert_file), b64


@pytest.fixture(scope="module", autouse=True)
def no_subprocess():
    """Fail loudly if anything starts a program (xmlsec1 in particular), from the moment
    the IdP and SP are built to the end of the module."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a subprocess was spawned: {args!r}")
    with pytest.MonkeyPatch.context() as patch:
        for module in (subprocess, saml2.sigver, saml2.algsupport):  # the last two bound Popen by name
            patch.setattr(module, "Popen", refuse)
        yield


@pytest.fixture(scope="module")
def pair(no_subprocess, tmp_path_factory):
    """Installed backend, an IdP Server and an SP client that know each other."""
    backend = crypto_backend.install()
    tmp = tmp_path_factory.mktemp("saml")
    idp_key, idp_crt, idp_b64 = _keypair(tmp, "idp")
    sp_key, sp_crt, sp_b64 = _keypair(tmp, "sp")
    (tmp / "idp.xml").write_text(MD.format(
        eid=IDP, role="IDPSSODescriptor", cert=idp_b64,
        endpoint=f'<md:SingleSignOnService Binding="{BINDING_HTTP_REDIRECT}" Location="{SSO}"/>'))
    (tmp / "sp.xml").write_text(MD.format(
        eid=SP, role="SPSSODescriptor", cert=sp_b64,
        endpoint=f'<md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{ACS}" index="0"/>'))
    algorithms = {"signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256}
    idp_conf = IdPConfig().load({
        "entityid": IDP, "key_file": idp_key, "cert_file": idp_crt,
        "metadata": {"local": [str(tmp / "sp.xml")]},
        "service": {"idp": {**algorithms,  # read per service ("idp"), not at the top level
            "endpoints": {"single_sign_on_service": [(SSO, BINDING_HTTP_REDIRECT)]},
            "name_id_format": [NAMEID_FORMAT_TRANSIENT],
            "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}}}}})
    sp_conf = SPConfig().load({
        "entityid": SP, "key_file": sp_key, "cert_file": sp_crt,
        "encryption_keypairs": [{"key_file": sp_key, "cert_file": sp_crt}],
        "metadata": {"local": [str(tmp / "idp.xml")]},
        "service": {"sp": {**algorithms,
            "endpoints": {"assertion_consumer_service": [(ACS, BINDING_HTTP_POST)]},
            # a Response signature is checked whenever present; only the assertion one is required
            "want_response_signed": False, "want_assertions_signed": True,
            "allow_unsolicited": False}}})
    yield {"backend": backend, "idp": Server(config=idp_conf), "sp": Saml2Client(config=sp_conf),
           "idp_key": idp_key, "idp_crt": idp_crt, "sp_key": sp_key, "sp_crt": sp_crt}
    crypto_backend.uninstall()


def _login(pair, **response_options):
    """SP AuthnRequest -> IdP Response XML (str) and the request id."""
    req_id, _request = pair["sp"].create_authn_request(SSO)
    options = {"sign_response": True, "sign_assertion": True, "encrypt_assertion": True, **response_options}
    response = pair["idp"].create_authn_response(
        {"mail": ["alice@example.test"], "givenName": ["Alice"]}, req_id, ACS, SP,
        name_id_policy=None, userid="alice", authn={"class_ref": PASSWORD}, **options)
    return str(response), req_id


def _receive(pair, xml, req_id):
    """What the SP's assertion consumer does with a POSTed SAMLResponse."""
    posted = base64.b64encode(xml.encode()).decode()
    return pair["sp"].parse_authn_request_response(posted, BINDING_HTTP_POST, outstanding={req_id: "/"})


def test_signed_and_encrypted_response_is_verified_and_decrypted(pair):
    xml, req_id = _login(pair)
    doc = etree.fromstring(xml.encode())
    assert doc.find("saml:Assertion", NS) is None  # nothing readable on the wire
    assert doc.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == SIG_RSA_SHA256
    enc = doc.find("saml:EncryptedAssertion/xenc:EncryptedData", NS)
    assert enc.find("xenc:EncryptionMethod", NS).get("Algorithm") == xml_safety.AES256_GCM
    ek_method = enc.find("ds:KeyInfo/xenc:EncryptedKey/xenc:EncryptionMethod", NS).get("Algorithm")
    assert ek_method == "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"

    result = _receive(pair, xml, req_id)
    assert result is not None
    assert result.ava["mail"] == ["alice@example.test"]
    assert result.assertion.signature.signed_info.signature_method.algorithm == SIG_RSA_SHA256
    assert result.assertion.signature.signed_info.reference[0].digest_method.algorithm == DIGEST_SHA256


def test_ciphertext_is_standard_aes_gcm_and_rsa_oaep(pair):
    """Independent check with `cryptography`: OAEP(SHA-1) key transport, IV|ct|tag GCM."""
    xml, _ = _login(pair)
    enc = etree.fromstring(xml.encode()).find("saml:EncryptedAssertion/xenc:EncryptedData", NS)
    values = [base64.b64decode("".join(v.text.split())) for v in enc.iterfind(".//xenc:CipherValue", NS)]
    sp_key = serialization.load_pem_private_key(Path(pair["sp_key"]).read_bytes(), None)
    session = sp_key.decrypt(values[0], padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))
    assert len(session) == 32
    plain = AESGCM(session).decrypt(values[1][:12], values[1][12:], None)
    assert etree.fromstring(plain).tag == "{%s}Assertion" % NS["saml"]


def test_tampered_response_is_refused(pair):
    xml, req_id = _login(pair)
    tampered = xml.replace(f'Destination="{ACS}"', f'Destination="{ACS}x"')
    assert tampered != xml
    with pytest.raises(SignatureError):
        _receive(pair, tampered, req_id)


def test_tampered_assertion_is_refused(pair):
    """Only the assertion is signed (and not encrypted): change an attribute value."""
    xml, req_id = _login(pair, sign_response=False, encrypt_assertion=False)
    assert _receive(pair, xml, req_id).ava["mail"] == ["alice@example.test"]
    xml, req_id = _login(pair, sign_response=False, encrypt_assertion=False)
    tampered = xml.replace("alice@example.test", "mallory@example.test")
    assert tampered != xml
    with pytest.raises(SignatureError):
        _receive(pair, tampered, req_id)


def test_signature_wrapping_is_refused(pair):
    """A second element with the signed ID (the classic XSW move) is refused outright."""
    xml, _ = _login(pair, encrypt_assertion=False)
    doc = etree.fromstring(xml.encode())
    backend, response_id = pair["backend"], doc.get("ID")
    assert backend.validate_signature(xml, pair["idp_crt"], "pem", RESPONSE, response_id)
    evil = etree.SubElement(doc.find("saml:Assertion", NS), "{urn:example}Wrapper", ID=response_id)
    evil.text = "anything"
    with pytest.raises(SignatureError, match="exactly one element"):
        backend.validate_signature(etree.tostring(doc), pair["idp_crt"], "pem", RESPONSE, response_id)


def test_wrong_certificate_fails_verification(pair):
    xml, _ = _login(pair, encrypt_assertion=False)
    response_id = etree.fromstring(xml.encode()).get("ID")
    assert not pair["backend"].validate_signature(xml, pair["sp_crt"], "pem", RESPONSE, response_id)


def test_doctype_is_refused_by_the_backend(pair):
    xml, _ = _login(pair)
    response_id = etree.fromstring(xml.encode()).get("ID")
    body = xml.split("?>", 1)[1]
    with_doctype = '<!DOCTYPE x [<!ENTITY e "alice">]>' + body
    with pytest.raises(xml_safety.UnsafeXMLError):
        pair["backend"].validate_signature(with_doctype, pair["idp_crt"], "pem", RESPONSE, response_id)
    with pytest.raises(xml_safety.UnsafeXMLError):
        pair["backend"].decrypt(with_doctype, pair["sp_key"])
    with pytest.raises(xml_safety.UnsafeXMLError):
        xml_safety.parse_xml('<!DOCTYPE a SYSTEM "http://attacker.test/x.dtd"><a/>')


def test_doctype_is_refused_end_to_end(pair, caplog):
    """A DOCTYPE defusedxml lets through (no entities) still stops at our parser."""
    xml, req_id = _login(pair)
    with_doctype = '<!DOCTYPE samlp:Response [<!ELEMENT samlp:Response ANY>]>' + xml.split("?>", 1)[1]
    with pytest.raises(SignatureError):
        _receive(pair, with_doctype, req_id)
    assert "XML with a DOCTYPE is refused" in caplog.text  # pysaml2 logs our reason


def test_decrypt_refuses_wrong_keys_and_legacy_algorithms(pair):
    xml, _ = _login(pair)
    with pytest.raises(DecryptError, match="no OAEP EncryptedKey opens"):
        pair["backend"].decrypt(xml, pair["idp_key"])
    triple_des = xml.replace(xml_safety.AES256_GCM, "http://www.w3.org/2001/04/xmlenc#tripledes-cbc")
    with pytest.raises(DecryptError, match="refusing data encryption algorithm"):
        pair["backend"].decrypt(triple_des, pair["sp_key"])
    rsa_1_5 = xml.replace("xmlenc#rsa-oaep-mgf1p", "xmlenc#rsa-1_5")
    with pytest.raises(DecryptError, match="no OAEP EncryptedKey opens"):
        pair["backend"].decrypt(rsa_1_5, pair["sp_key"])


def test_explicit_algorithm_requests_are_honoured(pair, tmp_path):
    backend = crypto_backend.XmlsecBackend(key_transport=xml_safety.RSA_OAEP_11)
    doc = ('<r xmlns="urn:x"><samlp:Response xmlns:samlp="%s"/></r>' % NS["samlp"])
    template = saml2.sigver.pre_encryption_part(msg_enc="http://www.w3.org/2001/04/xmlenc#aes128-cbc")
    out = backend.encrypt(doc, pair["sp_crt"], str(template), "des-192", xpath="//*[local-name()='Response']")
    enc = etree.fromstring(out.encode()).find("xenc:EncryptedData", NS)
    assert enc.find("xenc:EncryptionMethod", NS).get("Algorithm").endswith("#aes128-cbc")
    assert enc.find(".//xenc:EncryptedKey/xenc:EncryptionMethod", NS).get("Algorithm") == xml_safety.RSA_OAEP_11
    assert "samlp:Response" in backend.decrypt(out, pair["sp_key"])


def test_sha1_is_neither_produced_nor_accepted(pair):
    with pytest.raises(SignatureError, match="allowed SignatureMethod"):
        _login(pair, sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1, encrypt_assertion=False)
    # A SHA-1 signature made by a permissive backend is refused by the default one.
    response = samlp.Response(id="r1", version="2.0", issue_instant="2024-01-01T00:00:00Z")
    response.signature = saml2.sigver.pre_signature_part("r1", sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1)
    lax = crypto_backend.XmlsecBackend(signature_algorithms={SIG_RSA_SHA1}, digest_algorithms={DIGEST_SHA1})
    signed = lax.sign_statement(str(response), RESPONSE, pair["idp_key"], "r1")
    assert lax.validate_signature(signed, pair["idp_crt"], "pem", RESPONSE, "r1")
    with pytest.raises(SignatureError, match="allowed SignatureMethod, allowed DigestMethod"):
        pair["backend"].validate_signature(signed, pair["idp_crt"], "pem", RESPONSE, "r1")


def test_the_subprocess_guard_is_armed(pair):
    """pysaml2's own xmlsec1 backend trips the guard, so the other tests' silence counts."""
    with pytest.raises(AssertionError, match="subprocess was spawned"):
        saml2.sigver.CryptoBackendXmlSec1("/usr/bin/xmlsec1").version


def test_every_pysaml2_factory_is_rebound(pair):
    import saml2.entity, saml2.mdstore, saml2.metadata, saml2.response  # noqa: E401
    for module in (saml2.sigver, saml2.entity, saml2.mdstore, saml2.metadata, saml2.response):
        assert module.security_context.xmlsec_backend is pair["backend"]
    context = saml2.sigver.security_context(Config().load({"key_file": pair["idp_key"],
                                                           "cert_file": pair["idp_crt"]}))
    assert context.crypto is pair["backend"] and context.sec_backend is not None
