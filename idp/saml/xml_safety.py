"""What the in-process XML security backend (crypto_backend.py, xml_encryption.py)
shares: the algorithms it allows, safe parsing, and the parsed-key cache."""
import threading
from collections import OrderedDict

import xmlsec
from lxml import etree
from saml2 import SamlBase
from saml2.sigver import RSA_OAEP_MGF1P, SignatureError
from saml2.xmldsig import (DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512, SIG_RSA_SHA256, SIG_RSA_SHA384,
                           SIG_RSA_SHA512, TRANSFORM_C14N, TRANSFORM_C14N_WITH_COMMENTS)

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
TRANSFORMS = {t.href: t for t in (  # SHA-1 is enabled only if put in the allow-lists
    C.TransformExclC14N, C.TransformExclC14NWithComments, C.TransformEnveloped, C.TransformRsaSha1,
    C.TransformRsaSha256, C.TransformRsaSha384, C.TransformRsaSha512, C.TransformSha1,
    C.TransformSha256, C.TransformSha384, C.TransformSha512)}
ANY_ID = "//*[@*[(local-name()='ID' or local-name()='Id' or local-name()='id') and .=$v]]"


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


class ParsedKeys:
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
        data = pem_bytes(source)
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


def pem_bytes(source):
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        return source.encode("ascii")
    with open(source, "rb") as fh:
        return fh.read()


KEYS = ParsedKeys()


def xmlsec_key(source, fmt):
    """An ``xmlsec.Key`` for ``source`` (``ctx.key = ...`` copies it, so one parsed key
    safely serves every context)."""
    return KEYS.get(("xmlsec", fmt), source, lambda data: xmlsec.Key.from_memory(data, fmt))


def serialize(node):
    """The whole document of ``node`` as str, with an XML declaration like xmlsec1 wrote."""
    return etree.tostring(node.getroottree(), xml_declaration=True, encoding="UTF-8").decode()


def algorithm(node, path):
    found = node.find(path, NS)
    return None if found is None else found.get("Algorithm")
