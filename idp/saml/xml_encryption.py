"""XML encryption for the in-process backend (crypto_backend.XmlsecBackend): AES-GCM data
with an RSA-OAEP wrapped session key, and decryption that only ever runs OAEP and AES."""
import base64
import copy
import os
import re

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from saml2 import SamlBase
from saml2.sigver import (ASSERT_XPATH, RSA_1_5, RSA_OAEP_MGF1P, TRIPLE_DES_CBC, DecryptError,
                          EncryptError, pre_encrypt_assertion)
from saml2.xmldsig import DIGEST_SHA256

from .xml_safety import (DATA_ALGORITHMS, DS, KEY_TRANSPORTS, KEYS, NS, RSA_OAEP_11, XENC, XENC11, C,
                         algorithm, parse_xml, serialize, xmlsec_key)


class EncryptionMixin:
    """pysaml2's CryptoBackend encryption methods; the backend's ``data_algorithm`` and
    ``key_transport`` are the defaults used for pysaml2's legacy template."""

    def encrypt(self, text, recv_key, template, session_key_type, xpath=""):
        """Encrypt the element at ``xpath`` (default: root) of ``text`` for the holder of
        certificate file ``recv_key``; ``template`` is XML, an object or a file name."""
        if isinstance(template, str) and not template.lstrip().startswith("<") and os.path.isfile(template):
            with open(template, "rb") as fh:
                template = fh.read()
        root = parse_xml(text)
        return self._encrypt(root.xpath(xpath) if xpath else [root], recv_key, template, session_key_type)

    def encrypt_assertion(self, statement, enc_key, template, key_type="des-192", node_xpath=None,
                          node_id=None):
        """Replace the assertion in a Response's EncryptedAssertion by its EncryptedData.

        ``enc_key``: the recipient's certificate, as a file name or as PEM text (which
        spares pysaml2's temporary file; see idp.saml.server.IdpServer)."""
        if isinstance(statement, SamlBase):
            statement = pre_encrypt_assertion(statement)
        nodes = parse_xml(statement).xpath(node_xpath or ASSERT_XPATH)
        nodes = [n for n in nodes if not node_id or n.get("ID") == node_id]
        return self._encrypt(nodes, enc_key, template, key_type)

    def _pick_algorithms(self, template, key_type):
        """Map what pysaml2 asked for onto what we are willing to produce."""
        data = algorithm(template, "xenc:EncryptionMethod")
        if data in (None, TRIPLE_DES_CBC):  # pysaml2's hard-wired default
            # An xmlsec1-style "aes-N" session key type still picks the size; the mode
            # stays GCM, which authenticates the ciphertext.
            size = re.fullmatch(r"aes-?(128|192|256)", key_type or "")
            data = f"{XENC11}aes{size.group(1)}-gcm" if size else self.data_algorithm
        transport = algorithm(template, "ds:KeyInfo/xenc:EncryptedKey/xenc:EncryptionMethod")
        if transport in (None, RSA_1_5, RSA_OAEP_MGF1P):  # pysaml2's template always says mgf1p
            transport = self.key_transport
        if data not in DATA_ALGORITHMS or transport not in KEY_TRANSPORTS:
            raise EncryptError(f"refusing encryption with {data} / {transport}")
        return data, transport

    def _encrypt(self, nodes, cert_file, template, key_type):
        if len(nodes) != 1:  # xmlsec1 insists on one node too
            raise EncryptError(f"{len(nodes)} nodes selected for encryption, expected 1")
        if not isinstance(template, etree._Element):
            template = parse_xml(template)
        data_alg, transport = self._pick_algorithms(template, key_type)
        transform, bits = DATA_ALGORITHMS[data_alg]
        session = os.urandom(bits // 8)
        enc = xmlsec.template.encrypted_data_create(nodes[0], transform, id=template.get("Id"),
                                                    type=C.TypeEncElement, ns="xenc")
        xmlsec.template.encrypted_data_ensure_cipher_value(enc)
        ctx = xmlsec.EncryptionContext()
        try:
            ctx.key = xmlsec.Key.from_binary_data(C.KeyDataAes, session)
            enc = ctx.encrypt_xml(enc, nodes[0])
        except xmlsec.Error as exc:
            raise EncryptError(f"encryption failed: {exc}") from exc
        # The session key is wrapped here with `cryptography`: python-xmlsec cannot run an
        # EncryptedKey template alone, and its KeysManager route costs ~9 ms per call
        # (libxmlsec1 loads the system CA store). The result is checked by libxmlsec1 on
        # decryption in the tests.
        old_key = template.find("ds:KeyInfo/xenc:EncryptedKey", NS)
        key_info = etree.Element(f"{{{DS}}}KeyInfo", nsmap={"ds": DS})
        enc.insert(1, key_info)  # after EncryptionMethod, as the xenc schema wants
        encrypted_key = etree.SubElement(key_info, f"{{{XENC}}}EncryptedKey")
        if old_key is not None and old_key.get("Id"):
            encrypted_key.set("Id", old_key.get("Id"))
        method = etree.SubElement(encrypted_key, f"{{{XENC}}}EncryptionMethod", Algorithm=transport)
        digest = hashes.SHA1()  # the (safe) OAEP digest rsa-oaep-mgf1p is defined with
        if transport == RSA_OAEP_11:
            digest = hashes.SHA256()
            etree.SubElement(method, f"{{{DS}}}DigestMethod", Algorithm=DIGEST_SHA256)
            etree.SubElement(method, f"{{{XENC11}}}MGF", Algorithm=f"{XENC11}mgf1sha256",
                             nsmap={"xenc11": XENC11})
        hint = None if old_key is None else old_key.find("ds:KeyInfo", NS)
        if hint is not None:  # KeyName / X509Data telling the SP which of its keys to use
            encrypted_key.append(copy.deepcopy(hint))
        cipher_data = etree.SubElement(encrypted_key, f"{{{XENC}}}CipherData")
        value = etree.SubElement(cipher_data, f"{{{XENC}}}CipherValue")
        value.text = base64.b64encode(rsa_public_key(cert_file).encrypt(
            session, padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None))).decode()
        return serialize(enc)

    def decrypt(self, enctext, key_file):
        """Decrypt the first EncryptedData of ``enctext`` with the RSA key in ``key_file``.

        Two explicit steps (unwrap the session key, then decrypt the data) so that only
        OAEP and AES ever run, and no KeyName lookup can pick some other key.
        """
        root = parse_xml(enctext)
        data = root if root.tag == f"{{{XENC}}}EncryptedData" else root.find(".//xenc:EncryptedData", NS)
        if data is None:
            raise DecryptError("no EncryptedData")
        data_alg = algorithm(data, "xenc:EncryptionMethod")
        if data_alg not in DATA_ALGORITHMS:
            raise DecryptError(f"refusing data encryption algorithm {data_alg}")
        # EncryptedKey in KeyInfo (pysaml2, most IdPs) or beside EncryptedData, in the SAML
        # EncryptedAssertion (e.g. Shibboleth, referenced with RetrievalMethod).
        keys = data.findall("ds:KeyInfo/xenc:EncryptedKey", NS)
        keys += [] if data.getparent() is None else data.getparent().findall("xenc:EncryptedKey", NS)
        for encrypted_key in keys:
            if algorithm(encrypted_key, "xenc:EncryptionMethod") not in KEY_TRANSPORTS:
                continue
            ctx = xmlsec.EncryptionContext()
            try:
                ctx.key = xmlsec_key(key_file, C.KeyDataFormatPem)
                session = ctx.decrypt(encrypted_key)
            except (xmlsec.Error, OSError):
                continue
            if len(session) == DATA_ALGORITHMS[data_alg][1] // 8:
                break
        else:
            raise DecryptError(f"no OAEP EncryptedKey opens with {key_file}")
        ctx = xmlsec.EncryptionContext()
        try:
            ctx.key = xmlsec.Key.from_binary_data(C.KeyDataAes, session)
            return serialize(ctx.decrypt(data))
        except xmlsec.Error as exc:
            raise DecryptError(f"decryption failed: {exc}") from exc


def encryption_template(key_name=None, cert_b64=None):
    """pysaml2's ``pre_encryption_part()`` (its legacy algorithms, which ``_pick_algorithms``
    maps onto ours) built directly as an lxml element: ``str()`` of the pysaml2 object
    cost more than the encryption itself. ``key_name`` / ``cert_b64`` become the KeyInfo
    hint telling the SP which of its keys to use."""
    data = etree.Element(f"{{{XENC}}}EncryptedData", nsmap={"xenc": XENC, "ds": DS},
                         Id=f"ED_{os.urandom(16).hex()}", Type=f"{XENC}Element")
    etree.SubElement(data, f"{{{XENC}}}EncryptionMethod", Algorithm=TRIPLE_DES_CBC)
    key = etree.SubElement(etree.SubElement(data, f"{{{DS}}}KeyInfo"), f"{{{XENC}}}EncryptedKey",
                           Id=f"EK_{os.urandom(16).hex()}")
    etree.SubElement(key, f"{{{XENC}}}EncryptionMethod", Algorithm=RSA_OAEP_MGF1P)
    if key_name or cert_b64:
        hint = etree.SubElement(key, f"{{{DS}}}KeyInfo")
        if key_name:
            etree.SubElement(hint, f"{{{DS}}}KeyName").text = key_name
        if cert_b64:
            x509_data = etree.SubElement(hint, f"{{{DS}}}X509Data")
            etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = cert_b64
    for parent in (key, data):
        etree.SubElement(etree.SubElement(parent, f"{{{XENC}}}CipherData"), f"{{{XENC}}}CipherValue")
    return data


def rsa_public_key(cert):
    """The RSA public key of a PEM certificate (a file name or the PEM text itself)."""
    try:
        key = KEYS.get("x509", cert, lambda data: x509.load_pem_x509_certificate(data).public_key())
    except (OSError, ValueError) as exc:
        raise EncryptError(f"unusable encryption certificate: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise EncryptError("the encryption certificate does not hold an RSA key")
    return key
