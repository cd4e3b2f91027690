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

import importlib
import sys

import xmlsec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from lxml import etree
from saml2 import sigver
from saml2.sigver import RSA_OAEP_MGF1P, SignatureError
from saml2.xmldsig import TRANSFORM_ENVELOPED

from .xml_encryption import EncryptionMixin
from .xml_safety import (ANY_ID, AES256_GCM, C14N, DATA_ALGORITHMS, DIGEST_ALGORITHMS,
                         KEY_TRANSPORTS, NS, SIGNATURE_ALGORITHMS, TRANSFORMS, C, algorithm,
                         parse_xml, pem_bytes, serialize, xmlsec_key)


class XmlsecBackend(EncryptionMixin, sigver.CryptoBackend):  # SecurityContext insists on this base class
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
            ctx.key = xmlsec_key(key_file, C.KeyDataFormatPem)
            ctx.register_id(node, "ID")
            ctx.sign(signature)
        except (xmlsec.Error, OSError) as exc:
            raise SignatureError(f"signing {node_name} {node_id} failed: {exc}") from exc
        return serialize(root)

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
            ctx.enable_signature_transform(TRANSFORMS[uri])
        for uri in self.digest_algorithms | C14N | {TRANSFORM_ENVELOPED}:
            ctx.enable_reference_transform(TRANSFORMS[uri])
        try:
            ctx.key = xmlsec_key(cert_file, C.KeyDataFormatCertPem)
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
        hits = root.xpath(ANY_ID, v=node_id or "")
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
            "allowed SignatureMethod": sig is not None and algorithm(
                sig, "ds:SignedInfo/ds:SignatureMethod") in self.signature_algorithms,
            "exclusive c14n": sig is not None
            and algorithm(sig, "ds:SignedInfo/ds:CanonicalizationMethod") in C14N,
            "allowed DigestMethod": algorithm(ref, "ds:DigestMethod") in self.digest_algorithms,
            "enveloped + c14n transforms only": TRANSFORM_ENVELOPED in transforms
            and set(transforms) <= C14N | {TRANSFORM_ENVELOPED} and len(transforms) <= 2,
            "no ds:Object": sig is not None and sig.find("ds:Object", NS) is None,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise SignatureError(f"signature of {node_id!r} refused: {', '.join(failed)}")
        return node, sig


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
    if conf.getattr("key_file", ""):  # a file name, or the PEM text itself (idp/saml/server.py)
        sec_backend = sigver.RSACrypto(
            load_pem_private_key(pem_bytes(conf.key_file), password=None))
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
