"""In-process XML signature / encryption backend for pysaml2, built on python-xmlsec.

pysaml2 normally runs the ``xmlsec1`` program for every signature, check, encryption
and decryption (a process and temp files per call). ``XmlsecBackend`` does the same work
in process with the ``xmlsec`` PyPI package; ``xmlsec1`` is never needed nor spawned.

Use: call ``install()`` once at start-up, before any pysaml2 Server/Client is built::

    from idp.saml import crypto_backend
    crypto_backend.install()   # AES-256-GCM + RSA-OAEP(mgf1p), RSA-SHA256/384/512 only

It rebinds pysaml2's ``security_context`` factory (see "wiring" below for why), so the
``crypto_backend`` config key is then ignored. pysaml2 config that goes with it:

* ``service.idp.signing_algorithm = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"``
  and ``service.idp.digest_algorithm = "http://www.w3.org/2001/04/xmlenc#sha256"``
  (read per service section; also at top level for signed metadata). pysaml2 still
  defaults to RSA-SHA1, which this backend refuses to produce or accept.
* do not set ``xmlsec_binary``: metadata generation runs ``xmlsec1`` when it is set.
* encryption algorithms have no pysaml2 key: ``Entity._encrypt_assertion`` always asks
  for tripledes-cbc + rsa-oaep-mgf1p. That request means "the defaults", chosen with
  ``install(data_algorithm=AES128_GCM, key_transport=RSA_OAEP_11)``; an explicit AES
  (GCM or CBC) or xmlenc11 rsa-oaep request in a template is honoured.
"""

import base64
import copy
import importlib
import os
import re
import sys
import threading
from collections import OrderedDict

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from saml2 import SamlBase, sigver
from saml2.sigver import (ASSERT_XPATH, RSA_1_5, RSA_OAEP_MGF1P, TRIPLE_DES_CBC, DecryptError,
                          EncryptError, SignatureError, pre_encrypt_assertion)
from saml2.xmldsig import (DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512, SIG_RSA_SHA256, SIG_RSA_SHA384,
                           SIG_RSA_SHA512, TRANSFORM_C14N, TRANSFORM_C14N_WITH_COMMENTS, TRANSFORM_ENVELOPED)

C = xmlsec.constants
DS, XENC, XENC11 = C.DSigNs, C.EncNs, "http://www.w3.org/2009/xmlenc11#"
NS = {"ds": DS, "xenc": XENC}
AES128_GCM, AES192_GCM, AES256_GCM = (f"{XENC11}aes{n}-gcm" for n in (128, 192, 256))
RSA_OAEP_11 = f"{XENC11}rsa-oaep"  # sent with SHA-256 digest and MGF1-SHA256
# data encryption URI -> (python-xmlsec transform, key bits); CBC only on explicit request
DATA_ALGORITHMS = {t.href: (t, bits) for t, bits in (
    (C.TransformAes128Gcm, 128), (C.TransformAes192Gcm, 192), (C.TransformAes256Gcm, 256),
    (C.TransformAes128Cbc, 128), (C.TransformAes192Cbc, 192), (C.TransformAes256Cbc, 256))}
KEY_TRANSPORTS = frozenset({RSA_OAEP_MGF1P, RSA_OAEP_11})  # never rsa-1_5 (Bleichenbacher)
SIGNATURE_ALGORITHMS = frozenset({SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512})
DIGEST_ALGORITHMS = frozenset({DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512})
C14N = frozenset({TRANSFORM_C14N, TRANSFORM_C14N_WITH_COMMENTS})
_TRANSFORMS = {t.href: t for t in (  # SHA-1 is enabled only if put in the allow-lists
    C.TransformExclC14N, C.TransformExclC14NWithComments, C.TransformEnveloped, C.TransformRsaSha1,
    C.TransformRsaSha256, C.TransformRsaSha384, C.TransformRsaSha512, C.TransformSha1,
    C.TransformSha256, C.TransformSha384, C.TransformSha512)}
_ANY_ID = "//*[@*[(local-name()='ID' or local-name()='Id' or local-name()='id') and .=$v]]"


class UnsafeXMLError(SignatureError):
    """The document is not well-formed or has a DOCTYPE: refused before any crypto."""


def parse_xml(xml):
    """Parse ``xml`` (str, bytes or pysaml2 object) safely and return its root element.

    No entity expansion, no network, no huge trees, and any DOCTYPE is refused: SAML has
    no use for DTDs, which carry XXE, entity bombs and attacker-declared ID attributes.
    """
    if isinstance(xml, SamlBase):
        xml = str(xml)
    if isinstance(xml, str):
        xml = xml.encode("utf-8")  # pysaml2 only ever declares UTF-8
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXMLError(f"not well-formed XML: {exc}") from exc
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise UnsafeXMLError("XML with a DOCTYPE is refused")
    return root


class _ParsedKeys:
    """Parsed keys and certificates, keyed by their PEM bytes (never by file name alone:
    pysaml2 hands over temporary files whose names get reused). Parsing a private key
    for every signature is not only slower: OpenSSL then rebuilds the key's Montgomery
    and blinding state each time, which made an RSA-2048 signature cost ~1.1 ms instead
    of ~0.4 ms. Bounded, so SPs that rotate certificates cannot grow it without end."""

    SIZE = 64

    def __init__(self):
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind, source, parse):
        """The parsed key of ``source`` (a file name, or PEM text starting "-----BEGIN")."""
        data = _pem_bytes(source)
        with self._lock:
            found = self._items.get((kind, data))
            if found is not None:
                self._items.move_to_end((kind, data))
                return found
        parsed = parse(data)  # outside the lock: a miss does not stall other threads
        with self._lock:
            self._items[(kind, data)] = parsed
            while len(self._items) > self.SIZE:
                self._items.popitem(last=False)
        return parsed

    def clear(self):
        with self._lock:
            self._items.clear()


def _pem_bytes(source):
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        return source.encode("ascii")
    with open(source, "rb") as fh:
        return fh.read()


_KEYS = _ParsedKeys()


def _xmlsec_key(source, fmt):
    """An ``xmlsec.Key`` for ``source`` (``ctx.key = ...`` copies it, so one parsed key
    safely serves every context)."""
    return _KEYS.get(("xmlsec", fmt), source, lambda data: xmlsec.Key.from_memory(data, fmt))


def _serialize(node):
    """The whole document of ``node`` as str, with an XML declaration like xmlsec1 wrote."""
    return etree.tostring(node.getroottree(), xml_declaration=True, encoding="UTF-8").decode()


def _algorithm(node, path):
    found = node.find(path, NS)
    return None if found is None else found.get("Algorithm")


class XmlsecBackend(sigver.CryptoBackend):  # SecurityContext insists on this base class
    """pysaml2 ``CryptoBackend`` doing XML-DSig and XML-Enc in process with python-xmlsec."""

    def __init__(self, data_algorithm=AES256_GCM, key_transport=RSA_OAEP_MGF1P,
                 signature_algorithms=SIGNATURE_ALGORITHMS, digest_algorithms=DIGEST_ALGORITHMS):
        """Set the encryption defaults (used when pysaml2 asks for its legacy template) and
        the signature/digest algorithms allowed, both when signing and when verifying."""
        if data_algorithm not in DATA_ALGORITHMS or key_transport not in KEY_TRANSPORTS:
            raise ValueError("unsupported default encryption algorithm")
        self.data_algorithm, self.key_transport = data_algorithm, key_transport
        self.signature_algorithms = frozenset(signature_algorithms)
        self.digest_algorithms = frozenset(digest_algorithms)

    @property
    def version(self):
        """Version of the bundled libxmlsec1, e.g. ``"1.3.9"``."""
        return ".".join(str(n) for n in xmlsec.get_libxmlsec_version())

    # -- signatures -------------------------------------------------------------------
    def sign_statement(self, statement, node_name, key_file, node_id):
        """Fill in the ds:Signature template of element ``node_id``; return the document.

        pysaml2's ``pre_signature_part`` wrote SignatureMethod, DigestMethod and the
        exclusive c14n transforms into the template, so its sign_alg/digest_alg are
        honoured as they are; they are only checked against the allow-lists.
        """
        root = parse_xml(statement)
        node, signature = self._signed_node(root, node_name, node_id)
        ctx = xmlsec.SignatureContext()
        try:
            ctx.key = _xmlsec_key(key_file, C.KeyDataFormatPem)
            ctx.register_id(node, "ID")
            ctx.sign(signature)
        except (xmlsec.Error, OSError) as exc:
            raise SignatureError(f"signing {node_name} {node_id} failed: {exc}") from exc
        return _serialize(root)

    def validate_signature(self, signedtext, cert_file, cert_type, node_name, node_id):
        """Whether element ``node_id`` carries a good enveloped signature by ``cert_file``.

        Raises ``SignatureError`` for unsafe or oddly shaped documents. Only ``cert_file``
        is trusted (document KeyInfo is ignored); the ID must be unique and the single
        Reference must target it, so a signature cannot vouch for other content (XSW).
        """
        if cert_type != "pem":
            raise SignatureError(f"unsupported certificate type {cert_type}")
        root = parse_xml(signedtext)
        node, signature = self._signed_node(root, node_name, node_id)
        ctx = xmlsec.SignatureContext()
        # The same allow-lists enforced inside libxmlsec1 as well, as a second fence.
        for uri in self.signature_algorithms | C14N:
            ctx.enable_signature_transform(_TRANSFORMS[uri])
        for uri in self.digest_algorithms | C14N | {TRANSFORM_ENVELOPED}:
            ctx.enable_reference_transform(_TRANSFORMS[uri])
        try:
            ctx.key = _xmlsec_key(cert_file, C.KeyDataFormatCertPem)
            ctx.register_id(node, "ID")
        except (xmlsec.Error, OSError) as exc:
            raise SignatureError(f"cannot use certificate {cert_file}: {exc}") from exc
        try:
            ctx.verify(signature)
        except xmlsec.Error:
            return False
        return True

    def _signed_node(self, root, node_name, node_id):
        """(element ``node_id``, its ds:Signature), once the SAML profile is checked."""
        node_id = node_id or root.get("ID")  # pysaml2 always names the node; default: root
        hits = root.xpath(_ANY_ID, v=node_id or "")
        if len(hits) != 1 or hits[0].get("ID") != node_id:
            raise SignatureError(f"ID {node_id!r} must identify exactly one element")
        node = hits[0]
        ns, _, local = (node_name or "").rpartition(":")
        if node_name and node.tag != f"{{{ns}}}{local}":
            raise SignatureError(f"element {node_id!r} is a {node.tag}, not a {node_name}")
        signatures = node.findall("ds:Signature", NS)
        sig = signatures[0] if len(signatures) == 1 else None
        refs = [] if sig is None else sig.findall("ds:SignedInfo/ds:Reference", NS)
        ref = refs[0] if len(refs) == 1 else etree.Element("none")
        transforms = [t.get("Algorithm") for t in ref.iterfind("ds:Transforms/ds:Transform", NS)]
        checks = {
            "exactly one enveloped ds:Signature": sig is not None,
            "one Reference, to this element": ref.get("URI") == f"#{node_id}",
            "allowed SignatureMethod": sig is not None and _algorithm(
                sig, "ds:SignedInfo/ds:SignatureMethod") in self.signature_algorithms,
            "exclusive c14n": sig is not None
            and _algorithm(sig, "ds:SignedInfo/ds:CanonicalizationMethod") in C14N,
            "allowed DigestMethod": _algorithm(ref, "ds:DigestMethod") in self.digest_algorithms,
            "enveloped + c14n transforms only": TRANSFORM_ENVELOPED in transforms
            and set(transforms) <= C14N | {TRANSFORM_ENVELOPED} and len(transforms) <= 2,
            "no ds:Object": sig is not None and sig.find("ds:Object", NS) is None,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise SignatureError(f"signature of {node_id!r} refused: {', '.join(failed)}")
        return node, sig

    # -- encryption -------------------------------------------------------------------
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
        data = _algorithm(template, "xenc:EncryptionMethod")
        if data in (None, TRIPLE_DES_CBC):  # pysaml2's hard-wired default
            # An xmlsec1-style "aes-N" session key type still picks the size; the mode
            # stays GCM, which authenticates the ciphertext.
            size = re.fullmatch(r"aes-?(128|192|256)", key_type or "")
            data = f"{XENC11}aes{size.group(1)}-gcm" if size else self.data_algorithm
        transport = _algorithm(template, "ds:KeyInfo/xenc:EncryptedKey/xenc:EncryptionMethod")
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
        value.text = base64.b64encode(_rsa_public_key(cert_file).encrypt(
            session, padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None))).decode()
        return _serialize(enc)

    def decrypt(self, enctext, key_file):
        """Decrypt the first EncryptedData of ``enctext`` with the RSA key in ``key_file``.

        Two explicit steps (unwrap the session key, then decrypt the data) so that only
        OAEP and AES ever run, and no KeyName lookup can pick some other key.
        """
        root = parse_xml(enctext)
        data = root if root.tag == f"{{{XENC}}}EncryptedData" else root.find(".//xenc:EncryptedData", NS)
        if data is None:
            raise DecryptError("no EncryptedData")
        data_alg = _algorithm(data, "xenc:EncryptionMethod")
        if data_alg not in DATA_ALGORITHMS:
            raise DecryptError(f"refusing data encryption algorithm {data_alg}")
        # EncryptedKey in KeyInfo (pysaml2, most IdPs) or beside EncryptedData, in the SAML
        # EncryptedAssertion (e.g. Shibboleth, referenced with RetrievalMethod).
        keys = data.findall("ds:KeyInfo/xenc:EncryptedKey", NS)
        keys += [] if data.getparent() is None else data.getparent().findall("xenc:EncryptedKey", NS)
        for encrypted_key in keys:
            if _algorithm(encrypted_key, "xenc:EncryptionMethod") not in KEY_TRANSPORTS:
                continue
            ctx = xmlsec.EncryptionContext()
            try:
                ctx.key = _xmlsec_key(key_file, C.KeyDataFormatPem)
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
            return _serialize(ctx.decrypt(data))
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


def _rsa_public_key(cert):
    """The RSA public key of a PEM certificate (a file name or the PEM text itself)."""
    try:
        key = _KEYS.get("x509", cert, lambda data: x509.load_pem_x509_certificate(data).public_key())
    except (OSError, ValueError) as exc:
        raise EncryptError(f"unusable encryption certificate: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise EncryptError("the encryption certificate does not hold an RSA key")
    return key


# -- wiring ---------------------------------------------------------------------------
# Why rebind pysaml2's ``security_context`` factory: pysaml2 has no backend registry. Its
# factory knows "xmlsec1" (which first checks the program exists) and "XMLSecurity"
# (pyXMLSecurity, another package that is also imported as "xmlsec") and raises for
# anything else. Swapping ``entity.sec.crypto`` after the fact would miss the contexts
# pysaml2 builds inside (MetadataStore, response factories). The factory is the one
# place every SecurityContext comes from; keeping its signature keeps the change small
# and reversible. Modules that did ``from saml2.sigver import security_context`` hold
# their own reference, so each of them is rebound.
_IMPORTERS = ("saml2.sigver", "saml2.entity", "saml2.response", "saml2.metadata", "saml2.mdstore")
_ORIGINAL_FACTORY = sigver.security_context


def _factory_holders():
    for name in _IMPORTERS:
        importlib.import_module(name)
    for name, module in list(sys.modules.items()):
        bound = getattr(module, "security_context", None) if name.split(".")[0] == "saml2" else None
        if bound is _ORIGINAL_FACTORY or hasattr(bound, "xmlsec_backend"):
            yield module


def build_security_context(conf, backend):
    """``saml2.sigver.security_context(conf)`` with ``backend`` as the crypto backend."""
    if not conf:
        return None
    sec_backend = None  # RSA signer for HTTP-Redirect signatures, built as upstream does
    if conf.getattr("key_file", ""):
        sec_backend = sigver.RSACrypto(sigver.import_rsa_key_from_file(conf.key_file))
    passed_as_is = ("cert_file", "only_use_keys_in_metadata", "cert_handler_extra_class",
                    "generate_cert_info", "tmp_cert_file", "tmp_key_file", "validate_certificate",
                    "encryption_keypairs", "delete_tmpfiles")
    return sigver.SecurityContext(
        backend, conf.key_file, metadata=getattr(conf, "metadata", None), sec_backend=sec_backend,
        enc_key_files=[kp["key_file"] for kp in conf.encryption_keypairs or [] if "key_file" in kp],
        **{name: getattr(conf, name) for name in passed_as_is})


def install(**options):
    """Make every SecurityContext pysaml2 builds from now on use an ``XmlsecBackend``.

    ``options`` are ``XmlsecBackend``'s (``data_algorithm``, ``key_transport``,
    ``signature_algorithms``, ``digest_algorithms``). Can be called again to change
    them; returns the backend. Entities built before keep their context.
    """
    backend = XmlsecBackend(**options)

    def security_context(conf):
        return build_security_context(conf, backend)

    security_context.xmlsec_backend = backend
    for module in list(_factory_holders()):
        module.security_context = security_context
    return backend


def uninstall():
    """Give pysaml2 its own ``security_context`` factory back (for tests)."""
    for module in list(_factory_holders()):
        module.security_context = _ORIGINAL_FACTORY
