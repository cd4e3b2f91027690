"""In-process XML signature / encryption backend for pysaml2, built on python-xmlsec.

pysaml2 normally shells out to the ``xmlsec1`` program for every signature, check,
encryption and decryption (~45 ms each, temp files, a process per call). This module
does the same work in process with the ``xmlsec`` PyPI package; ``xmlsec1`` is never
needed nor spawned.

Call ``install()`` once at start-up, before any pysaml2 ``Server``/``Saml2Client`` is
built::

    from idp.saml import crypto_backend
    crypto_backend.install()            # defaults: AES-256-GCM + RSA-OAEP, RSA-SHA256+

pysaml2 configuration of the IdP that goes with it:

* ``"signing_algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"`` and
  ``"digest_algorithm": "http://www.w3.org/2001/04/xmlenc#sha256"``: pysaml2 7.x still
  defaults to RSA-SHA1, which this backend refuses to produce or accept.
* leave ``crypto_backend`` at its default (it is ignored once installed) and do NOT set
  ``xmlsec_binary``: ``saml2.metadata.entity_descriptor`` runs
  ``xmlsec1 --list-transforms`` when it is set.
* encryption algorithms have no pysaml2 config key: ``Entity._encrypt_assertion`` always
  asks for its tripledes-cbc + rsa-oaep-mgf1p template. The backend treats that legacy
  request as "use my defaults", configured here: ``install(data_algorithm=AES128_GCM,
  key_transport=RSA_OAEP_11)``. An explicit AES-GCM/CBC or OAEP request is honoured.
"""
from __future__ import annotations

import copy
import importlib
import os
import re
import sys

import xmlsec
from lxml import etree
from saml2 import SamlBase
from saml2 import sigver
from saml2.sigver import (ASSERT_XPATH, RSA_1_5, RSA_OAEP_MGF1P, TRIPLE_DES_CBC, DecryptError,
                          EncryptError, SignatureError, pre_encrypt_assertion)
from saml2.xmldsig import (DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512, SIG_RSA_SHA256,
                           SIG_RSA_SHA384, SIG_RSA_SHA512, TRANSFORM_C14N,
                           TRANSFORM_C14N_WITH_COMMENTS, TRANSFORM_ENVELOPED)

C = xmlsec.constants
DS, XENC = C.DSigNs, C.EncNs
NS = {"ds": DS, "xenc": XENC}
AES128_GCM, AES192_GCM, AES256_GCM = (t.href for t in (C.TransformAes128Gcm, C.TransformAes192Gcm,
                                                       C.TransformAes256Gcm))
RSA_OAEP_11 = "http://www.w3.org/2009/xmlenc11#rsa-oaep"  # OAEP with SHA-256 digest + MGF1
# session-key algorithm URI -> (python-xmlsec transform, key size in bits)
DATA_ALGORITHMS = {t.href: (t, bits) for t, bits in (
    (C.TransformAes128Gcm, 128), (C.TransformAes192Gcm, 192), (C.TransformAes256Gcm, 256),
    (C.TransformAes128Cbc, 128), (C.TransformAes192Cbc, 192), (C.TransformAes256Cbc, 256))}
KEY_TRANSPORTS = frozenset({RSA_OAEP_MGF1P, RSA_OAEP_11})  # never rsa-1_5 (Bleichenbacher)
SIGNATURE_ALGORITHMS = frozenset({SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512})
DIGEST_ALGORITHMS = frozenset({DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512})
C14N_ALGORITHMS = frozenset({TRANSFORM_C14N, TRANSFORM_C14N_WITH_COMMENTS})
_TRANSFORMS = {t.href: t for t in (  # SHA-1 only ever enabled if put in the allow-lists
    C.TransformExclC14N, C.TransformExclC14NWithComments, C.TransformEnveloped, C.TransformRsaSha1,
    C.TransformRsaSha256, C.TransformRsaSha384, C.TransformRsaSha512, C.TransformSha1,
    C.TransformSha256, C.TransformSha384, C.TransformSha512)}
_ID_ATTRS = "@*[(local-name()='ID' or local-name()='Id' or local-name()='id') and .=$v]"


class UnsafeXMLError(SignatureError):
    """The document carries a DTD / entity declarations: refused before any crypto."""


def parse_xml(xml):
    """Parse ``xml`` (str, bytes or pysaml2 object) safely and return the root element.

    Entities are never expanded, nothing is fetched and any DOCTYPE is refused: SAML has
    no use for DTDs, and they are the vehicle of XXE, billion-laughs and of ID attributes
    declared by the attacker (signature wrapping).
    """
    if isinstance(xml, SamlBase):
        xml = str(xml)
    if isinstance(xml, str):
        xml = xml.encode("utf-8")  # pysaml2 only ever declares UTF-8
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False, dtd_validation=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXMLError(f"not well-formed XML: {exc}") from exc
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise UnsafeXMLError("XML with a DOCTYPE is refused")
    return root


def _serialize(node):
    """Whole document of ``node`` as str, declaration included, as xmlsec1 wrote it."""
    return etree.tostring(node.getroottree(), xml_declaration=True, encoding="UTF-8").decode()


def _child(node, tag):
    """First child called ``tag``. Not ``find()``: lxml's find compares interned namespace
    pointers and misses the nodes libxmlsec1 creates with its own strings."""
    return next(child for child in node if child.tag == tag)


def _read_template(template):
    """pysaml2 hands templates as objects, XML text or a file name (SecurityContext.encrypt)."""
    if isinstance(template, str) and not template.lstrip().startswith("<") and os.path.isfile(template):
        with open(template, "rb") as fh:
            template = fh.read()
    return parse_xml(template)


class XmlsecBackend(sigver.CryptoBackend):
    """pysaml2 ``CryptoBackend`` doing XML-DSig and XML-Enc in process with python-xmlsec.

    Subclassing ``CryptoBackend`` is required: ``SecurityContext`` type-checks it.
    """

    def __init__(self, data_algorithm=AES256_GCM, key_transport=RSA_OAEP_MGF1P,
                 signature_algorithms=SIGNATURE_ALGORITHMS, digest_algorithms=DIGEST_ALGORITHMS):
        """Choose the defaults used when pysaml2 asks for its legacy 3DES/rsa-1_5 template,
        and the signature/digest algorithms accepted both when signing and verifying."""
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
        """Fill in the ds:Signature template pysaml2 put in the element ``node_id``.

        pysaml2 (``pre_signature_part``) already wrote SignatureMethod, DigestMethod and
        the exclusive c14n transforms into the template, so its ``sign_alg``/``digest_alg``
        are honoured by construction; they are only checked against the allow-list.
        """
        root = parse_xml(statement)
        node, signature = self._signed_node(root, node_name, node_id, SignatureError)
        ctx = xmlsec.SignatureContext()
        try:
            ctx.key = xmlsec.Key.from_file(key_file, C.KeyDataFormatPem)
            ctx.register_id(node, "ID")
            ctx.sign(signature)
        except xmlsec.Error as exc:
            raise SignatureError(f"signing {node_name} {node_id} failed: {exc}") from exc
        return _serialize(root)

    def validate_signature(self, signedtext, cert_file, cert_type, node_name, node_id):
        """Verify the enveloped signature of the element ``node_id`` with ``cert_file``.

        Returns True/False for a good/bad signature value; raises ``SignatureError`` for a
        document that is unsafe or shaped unlike a SAML enveloped signature. Only the
        given certificate is used (KeyInfo in the document is ignored), the ID must be
        unique in the document and the single Reference must point at that element, so a
        signature cannot be borrowed for other content (XML signature wrapping).
        """
        if cert_type != "pem":
            raise SignatureError(f"unsupported certificate type {cert_type}")
        root = parse_xml(signedtext)
        node, signature = self._signed_node(root, node_name, node_id, SignatureError)
        ctx = xmlsec.SignatureContext()
        # Allow-list at libxmlsec level too: anything else in the document is an error.
        for uri in self.signature_algorithms | C14N_ALGORITHMS:
            ctx.enable_signature_transform(_TRANSFORMS[uri])
        for uri in self.digest_algorithms | C14N_ALGORITHMS | {TRANSFORM_ENVELOPED}:
            ctx.enable_reference_transform(_TRANSFORMS[uri])
        try:
            ctx.key = xmlsec.Key.from_file(cert_file, C.KeyDataFormatCertPem)
            ctx.register_id(node, "ID")
        except xmlsec.Error as exc:
            raise SignatureError(f"cannot use certificate {cert_file}: {exc}") from exc
        try:
            ctx.verify(signature)
        except xmlsec.Error:
            return False
        return True

    def _signed_node(self, root, node_name, node_id, error):
        """Return (element, its ds:Signature) after checking the SAML signature profile."""
        if node_id is None:  # pysaml2 never does this for SAML messages; sign the root then
            node_id = root.get("ID")
        hits = root.xpath(f"//*[{_ID_ATTRS}]", v=node_id or "")
        if len(hits) != 1 or hits[0].get("ID") != node_id:
            raise error(f"ID {node_id!r} must identify exactly one element")
        node = hits[0]
        if node_name:
            ns, _, local = node_name.rpartition(":")
            if node.tag != f"{{{ns}}}{local}":
                raise error(f"element {node_id!r} is a {node.tag}, not a {node_name}")
        sigs = node.findall(f"{{{DS}}}Signature")
        if len(sigs) != 1:
            raise error(f"element {node_id!r} must carry exactly one enveloped signature")
        sig = sigs[0]
        refs = sig.findall("ds:SignedInfo/ds:Reference", NS)
        transforms = [t.get("Algorithm") for t in refs[0].iterfind("ds:Transforms/ds:Transform", NS)] \
            if len(refs) == 1 else []
        checks = {
            "one Reference to the enveloping element": len(refs) == 1 and refs[0].get("URI") == f"#{node_id}",
            "allowed SignatureMethod": self._alg(sig, "ds:SignedInfo/ds:SignatureMethod") in self.signature_algorithms,
            "exclusive c14n": self._alg(sig, "ds:SignedInfo/ds:CanonicalizationMethod") in C14N_ALGORITHMS,
            "allowed DigestMethod": len(refs) == 1 and self._alg(refs[0], "ds:DigestMethod") in self.digest_algorithms,
            "enveloped + c14n transforms only": TRANSFORM_ENVELOPED in transforms
            and set(transforms) <= C14N_ALGORITHMS | {TRANSFORM_ENVELOPED} and len(transforms) <= 2,
            "no ds:Object": sig.find("ds:Object", NS) is None,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise error(f"signature of {node_id!r} refused: {', '.join(failed)}")
        return node, sig

    @staticmethod
    def _alg(node, path):
        found = node.find(path, NS)
        return None if found is None else found.get("Algorithm")

    # -- encryption -------------------------------------------------------------------
    def encrypt(self, text, recv_key, template, session_key_type, xpath=""):
        """Encrypt the element at ``xpath`` (default: the root) of ``text`` for the holder
        of the certificate file ``recv_key``; returns the document as str."""
        root = parse_xml(text)
        nodes = root.xpath(xpath) if xpath else [root]
        if len(nodes) != 1:
            raise EncryptError(f"{xpath!r} selects {len(nodes)} nodes, expected 1")
        return self._encrypt_node(nodes[0], recv_key, _read_template(template), session_key_type)

    def encrypt_assertion(self, statement, enc_key, template, key_type="des-192", node_xpath=None, node_id=None):
        """Replace the assertion of a Response by its EncryptedData (pysaml2 API)."""
        if isinstance(statement, SamlBase):
            statement = pre_encrypt_assertion(statement)
        root = parse_xml(statement)
        nodes = root.xpath(node_xpath or ASSERT_XPATH)
        if node_id:
            nodes = [n for n in nodes if n.get("ID") == node_id]
        if len(nodes) != 1:  # xmlsec1 also insists on exactly one node
            raise EncryptError(f"{len(nodes)} assertions match {node_xpath or ASSERT_XPATH!r}")
        return self._encrypt_node(nodes[0], enc_key, _read_template(template), key_type)

    def _pick_algorithms(self, template, key_type):
        """Map the algorithms pysaml2 asked for onto what we are willing to produce."""
        data = template.find("xenc:EncryptionMethod", NS)
        data = None if data is None else data.get("Algorithm")
        if data in (None, TRIPLE_DES_CBC):
            # pysaml2's hard-wired default. An "aes-N" session key type (xmlsec1 names)
            # still picks the size; the mode is always GCM, which authenticates the data.
            size = re.fullmatch(r"aes-?(128|192|256)", key_type or "")
            data = {"128": AES128_GCM, "192": AES192_GCM, "256": AES256_GCM}[size.group(1)] \
                if size else self.data_algorithm
        if data not in DATA_ALGORITHMS:
            raise EncryptError(f"refusing data encryption algorithm {data}")
        transport = template.find("ds:KeyInfo/xenc:EncryptedKey/xenc:EncryptionMethod", NS)
        transport = None if transport is None else transport.get("Algorithm")
        if transport in (None, RSA_1_5, RSA_OAEP_MGF1P):
            # pysaml2's template always says mgf1p: read it as "the configured default".
            transport = self.key_transport
        if transport not in KEY_TRANSPORTS:
            raise EncryptError(f"refusing key transport algorithm {transport}")
        return data, transport

    def _encrypt_node(self, node, cert_file, template, key_type):
        data_alg, transport = self._pick_algorithms(template, key_type)
        transform, bits = DATA_ALGORITHMS[data_alg]
        old_ek = template.find("ds:KeyInfo/xenc:EncryptedKey", NS)
        # A fresh template built with python-xmlsec: the ids of pysaml2's one are kept.
        enc = xmlsec.template.encrypted_data_create(node, transform, id=template.get("Id"),
                                                    type=C.TypeEncElement, ns="xenc")
        xmlsec.template.encrypted_data_ensure_cipher_value(enc)
        key_info = xmlsec.template.encrypted_data_ensure_key_info(enc, ns="ds")
        ek = xmlsec.template.add_encrypted_key(key_info, C.TransformRsaOaep,
                                               id=None if old_ek is None else old_ek.get("Id"))
        xmlsec.template.encrypted_data_ensure_cipher_value(ek)
        if transport == RSA_OAEP_11:  # no python-xmlsec constant, libxmlsec1 knows the URI
            method = _child(ek, f"{{{XENC}}}EncryptionMethod")
            method.set("Algorithm", RSA_OAEP_11)
            etree.SubElement(method, f"{{{DS}}}DigestMethod", Algorithm=DIGEST_SHA256)
            etree.SubElement(method, "{http://www.w3.org/2009/xmlenc11#}MGF",
                             Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha256")
        manager = xmlsec.KeysManager()
        ctx = xmlsec.EncryptionContext(manager)
        try:
            manager.add_key(xmlsec.Key.from_file(cert_file, C.KeyDataFormatCertPem))
            ctx.key = xmlsec.Key.generate(C.KeyDataAes, bits, C.KeyDataTypeSession)
            enc = ctx.encrypt_xml(enc, node)
        except xmlsec.Error as exc:
            raise EncryptError(f"encryption for {cert_file} failed: {exc}") from exc
        # The recipient hints (KeyName / X509Data) are copied only now: present during
        # encryption, libxmlsec1 would try to resolve them instead of using our key.
        hint = None if old_ek is None else old_ek.find("ds:KeyInfo", NS)
        if hint is not None:
            _child(_child(enc, f"{{{DS}}}KeyInfo"), f"{{{XENC}}}EncryptedKey").insert(1, copy.deepcopy(hint))
        return _serialize(enc)

    def decrypt(self, enctext, key_file):
        """Decrypt the first EncryptedData of ``enctext`` with the RSA key in ``key_file``.

        Done in two explicit steps (key transport, then data) so that only OAEP and AES
        algorithms are ever run and KeyName lookups cannot pick another key.
        """
        root = parse_xml(enctext)
        found = [root] if root.tag == f"{{{XENC}}}EncryptedData" else root.iterfind(".//xenc:EncryptedData", NS)
        data = next(iter(found), None)
        if data is None:
            raise DecryptError("no EncryptedData")
        data_alg = self._alg(data, "xenc:EncryptionMethod")
        if data_alg not in DATA_ALGORITHMS:
            raise DecryptError(f"refusing data encryption algorithm {data_alg}")
        bits = DATA_ALGORITHMS[data_alg][1]
        # EncryptedKey inside KeyInfo (pysaml2, most IdPs) or next to EncryptedData (SAML
        # EncryptedAssertion/EncryptedKey, e.g. Shibboleth with RetrievalMethod).
        keys = data.findall("ds:KeyInfo/xenc:EncryptedKey", NS) + \
            (data.getparent().findall("xenc:EncryptedKey", NS) if data.getparent() is not None else [])
        session = None
        for ek in keys:
            if self._alg(ek, "xenc:EncryptionMethod") not in KEY_TRANSPORTS:
                continue
            ctx = xmlsec.EncryptionContext()
            try:
                ctx.key = xmlsec.Key.from_file(key_file, C.KeyDataFormatPem)
                session = ctx.decrypt(ek)
            except xmlsec.Error:
                continue
            if len(session) == bits // 8:
                break
            session = None
        if session is None:
            raise DecryptError(f"no OAEP EncryptedKey opens with {key_file}")
        ctx = xmlsec.EncryptionContext()
        try:
            ctx.key = xmlsec.Key.from_binary_data(C.KeyDataAes, session)
            plain = ctx.decrypt(data)
        except xmlsec.Error as exc:
            raise DecryptError(f"decryption failed: {exc}") from exc
        return _serialize(plain)


# -- wiring into pysaml2 --------------------------------------------------------------
# Why rebinding the ``security_context`` factory: pysaml2 has no backend registry; its
# factory hard-codes "xmlsec1" (which checks the binary exists on disk) and
# "XMLSecurity" (pyXMLSecurity, a different package also named "xmlsec") and raises for
# anything else. Swapping ``Entity.sec.crypto`` after construction would miss the
# contexts pysaml2 builds internally (MetadataStore, response factories). The factory is
# the single seam through which every SecurityContext is made, and keeping its exact
# signature makes the change small and reversible (``uninstall()``). The modules that did
# ``from saml2.sigver import security_context`` hold their own reference, so each is
# rebound too.
_IMPORTERS = ("saml2.sigver", "saml2.entity", "saml2.response", "saml2.metadata", "saml2.mdstore")
_ORIGINAL_FACTORY = sigver.security_context


def _factory_holders():
    for name in _IMPORTERS:
        importlib.import_module(name)
    for name, module in list(sys.modules.items()):
        if module is not None and (name == "saml2" or name.startswith("saml2.")):
            bound = getattr(module, "security_context", None)
            if bound is _ORIGINAL_FACTORY or hasattr(bound, "xmlsec_backend"):
                yield module


def build_security_context(conf, backend):
    """Same as ``saml2.sigver.security_context(conf)`` but with ``backend`` as crypto."""
    if not conf:
        return None
    sec_backend = None  # RSA signer for HTTP-Redirect query strings, as upstream builds it
    if conf.getattr("key_file", ""):
        sec_backend = sigver.RSACrypto(sigver.import_rsa_key_from_file(conf.key_file))
    enc_key_files = [kp["key_file"] for kp in conf.encryption_keypairs or [] if "key_file" in kp]
    return sigver.SecurityContext(
        backend, conf.key_file, cert_file=conf.cert_file, metadata=getattr(conf, "metadata", None),
        only_use_keys_in_metadata=conf.only_use_keys_in_metadata,
        cert_handler_extra_class=conf.cert_handler_extra_class, generate_cert_info=conf.generate_cert_info,
        tmp_cert_file=conf.tmp_cert_file, tmp_key_file=conf.tmp_key_file,
        validate_certificate=conf.validate_certificate, enc_key_files=enc_key_files,
        encryption_keypairs=conf.encryption_keypairs, sec_backend=sec_backend,
        delete_tmpfiles=conf.delete_tmpfiles)


def install(**options):
    """Make every SecurityContext pysaml2 builds from now on use an ``XmlsecBackend``.

    ``options`` go to ``XmlsecBackend`` (``data_algorithm``, ``key_transport``,
    ``signature_algorithms``, ``digest_algorithms``). Idempotent; returns the backend.
    Entities built before the call keep their old context: call it at start-up.
    """
    backend = XmlsecBackend(**options)

    def security_context(conf):
        return build_security_context(conf, backend)

    security_context.xmlsec_backend = backend
    security_context.__doc__ = _ORIGINAL_FACTORY.__doc__
    for module in list(_factory_holders()):
        module.security_context = security_context
    return backend


def uninstall():
    """Give pysaml2 back its own ``security_context`` factory (mainly for tests)."""
    for module in list(_factory_holders()):
        module.security_context = _ORIGINAL_FACTORY
