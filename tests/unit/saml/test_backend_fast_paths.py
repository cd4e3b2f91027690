"""The backend's fast paths stay as safe as the slow ones: the parsed-key cache is keyed
by PEM content, so a file rewritten in place (key rotation, pysaml2 reusing a temporary
file name) is never served an old key; the lxml encryption template is pysaml2's."""
import base64
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

try:
    from idp.saml import crypto_backend, xml_encryption, xml_safety
except ModuleNotFoundError:  # plain `pytest` does not put the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from idp.saml import crypto_backend, xml_encryption, xml_safety

from tests.support.saml import keypair
from saml2.sigver import EncryptError, SignatureError, pre_encryption_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256



def _keypair(directory, name):
    """RSA-2048 key + self-signed certificate as PEM files: (key, cert, cert base64)."""
    key_file, cert_file = keypair(directory, name)
    cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    return key_file, cert_file, b64


DOC = """<r:Root xmlns:r="urn:test" ID="id-1"><r:Data>hello</r:Data>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
<ds:SignatureMethod Algorithm="{sig}"/>
<ds:Reference URI="#id-1"><ds:Transforms>
<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>
<ds:DigestMethod Algorithm="{digest}"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>
<ds:SignatureValue/></ds:Signature></r:Root>""".format(sig=SIG_RSA_SHA256, digest=DIGEST_SHA256)


@pytest.fixture
def backend():
    xml_safety.KEYS.clear()
    yield crypto_backend.XmlsecBackend()
    xml_safety.KEYS.clear()


def _sign(backend, key_file):
    return backend.sign_statement(DOC, "urn:test:Root", key_file, "id-1")


def test_a_key_file_rewritten_in_place_signs_with_the_new_key(backend, tmp_path):
    key_a, crt_a, _ = _keypair(tmp_path, "a")
    key_b, crt_b, _ = _keypair(tmp_path, "b")
    signed = _sign(backend, key_a)
    assert backend.validate_signature(signed, crt_a, "pem", "urn:test:Root", "id-1")
    Path(key_a).write_bytes(Path(key_b).read_bytes())  # same name, new content
    signed = _sign(backend, key_a)
    assert backend.validate_signature(signed, crt_b, "pem", "urn:test:Root", "id-1")
    assert not backend.validate_signature(signed, crt_a, "pem", "urn:test:Root", "id-1")


def test_a_certificate_file_rewritten_in_place_is_not_trusted_from_the_cache(backend, tmp_path):
    key_a, crt_a, _ = _keypair(tmp_path, "a")
    _, crt_b, _ = _keypair(tmp_path, "b")
    signed = _sign(backend, key_a)
    trusted = tmp_path / "trusted.crt"
    trusted.write_bytes(Path(crt_a).read_bytes())
    assert backend.validate_signature(signed, str(trusted), "pem", "urn:test:Root", "id-1")
    trusted.write_bytes(Path(crt_b).read_bytes())  # e.g. a reused temporary file name
    assert not backend.validate_signature(signed, str(trusted), "pem", "urn:test:Root", "id-1")


def test_missing_or_broken_key_files_are_clear_errors(backend, tmp_path):
    with pytest.raises(SignatureError):
        _sign(backend, str(tmp_path / "absent.key"))
    broken = tmp_path / "broken.key"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SignatureError):
        _sign(backend, str(broken))
    key_a, _, _ = _keypair(tmp_path, "a")
    with pytest.raises(SignatureError):  # a certificate is not a key that verifies
        backend.validate_signature(_sign(backend, key_a), str(broken), "pem",
                                   "urn:test:Root", "id-1")


def test_encryption_takes_the_certificate_as_pem_text(backend, tmp_path):
    key_a, crt_a, b64 = _keypair(tmp_path, "a")
    pem = Path(crt_a).read_text()
    xml = '<r:Root xmlns:r="urn:test"><r:Secret>s3cret</r:Secret></r:Root>'
    encrypted = backend.encrypt(xml, pem, str(pre_encryption_part(encrypt_cert=b64)), "aes-256",
                                xpath="/*[local-name()='Root']/*[local-name()='Secret']")
    assert "s3cret" not in encrypted
    assert "s3cret" in backend.decrypt(encrypted, key_a)
    with pytest.raises(EncryptError):
        backend.encrypt(xml, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                        str(pre_encryption_part()), "aes-256",
                        xpath="/*[local-name()='Root']/*[local-name()='Secret']")


def test_the_cache_is_bounded_and_keeps_the_recent_keys():
    cache = xml_safety.ParsedKeys()
    parsed = []
    for i in range(cache.SIZE + 5):
        cache.get("k", f"-----BEGIN TEST-----{i}", lambda data: parsed.append(data) or data)
    assert len(cache._items) == cache.SIZE and len(parsed) == cache.SIZE + 5
    cache.get("k", f"-----BEGIN TEST-----{cache.SIZE + 4}", lambda data: parsed.append(data))
    assert len(parsed) == cache.SIZE + 5  # a hit: not parsed again


def test_encryption_template_is_pysaml2s_and_encrypts_for_the_named_key(backend, tmp_path):
    def shape(element):  # Ids are random in both
        return [(e.tag, sorted((k, v) for k, v in e.attrib.items() if k != "Id"),
                 (e.text or "").strip()) for e in element.iter()]
    key_a, crt_a, b64 = _keypair(tmp_path, "a")
    ours = xml_encryption.encryption_template("sp-key", b64)
    theirs = xml_safety.parse_xml(pre_encryption_part(key_name="sp-key", encrypt_cert=b64))
    assert shape(ours) == shape(theirs)
    assert shape(xml_encryption.encryption_template()) == shape(
        xml_safety.parse_xml(pre_encryption_part()))
    first, second = xml_encryption.encryption_template(), xml_encryption.encryption_template()
    assert first.get("Id") != second.get("Id")
    xml = '<r:Root xmlns:r="urn:test"><r:Secret>s3cret</r:Secret></r:Root>'
    encrypted = backend.encrypt(xml, Path(crt_a).read_text(), ours, None,
                                xpath="/*[local-name()='Root']/*[local-name()='Secret']")
    assert "s3cret" not in encrypted and "<ds:KeyName>sp-key</ds:KeyName>" in encrypted
    assert xml_safety.AES256_GCM in encrypted and "tripledes" not in encrypted
    assert "s3cret" in backend.decrypt(encrypted, key_a)
