"""The pysaml2 IdP `Server`, built once per app and rebuilt only when the SP registry
or the signing keys change.

Each request that names an SP reads its row (one indexed query, which is also how a
disabled SP stops at once) and compares the row's `updated_at` with the one the current
Server was built from: equal, the Server is reused; different or unknown, the Server is
rebuilt from every enabled SP's stored metadata. No metadata is parsed per request.

Keys come from the database through the app's KeyRing (idp/keys/): the Server signs with
the key that signs now, its private PEM handed to the in-process crypto backend as text
(never written to disk); the metadata publishes every published certificate (the next
one before it signs, a retired one for the grace period). The signed metadata is the
same on every node: its ID and validUntil derive from the certificates and the UTC day.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime, timedelta, timezone

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.assertion import Policy
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig
from saml2.metadata import do_key_descriptor, entity_descriptor, sign_entity_descriptor
from saml2.s_utils import do_ava, factory
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server
from saml2.sigver import get_pem_wrapped_unwrapped, pre_encryption_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from sqlalchemy import select

from ..db import db
from ..keys.material import certificate_base64
from ..models import SAMLServiceProvider
from . import crypto_backend
from .xml_encryption import encryption_template
from .attributes import AttributeSchema

log = logging.getLogger(__name__)

SSO_PATHS = {BINDING_HTTP_REDIRECT: "/saml/sso/redirect", BINDING_HTTP_POST: "/saml/sso/post"}
SLO_PATHS = {BINDING_HTTP_REDIRECT: "/saml/slo/redirect", BINDING_HTTP_POST: "/saml/slo/post"}
METADATA_PATH = "/saml/metadata"
ALGORITHMS = {"signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256}


class IdpServer(Server):
    """pysaml2's Server without its in-memory assertion store: it keeps every assertion
    issued for AssertionIDRequest/AuthnQuery, which we do not offer, and would grow
    without bound in a long-running process."""

    def support_AssertionIDRequest(self):
        return False

    def support_AuthnQuery(self):
        return False

    def _encrypt_assertion(self, encrypt_cert, sp_entity_id, response, node_xpath=None):
        """pysaml2's, minus the temporary file it writes the SP's certificate to for every
        response (our in-process backend takes the PEM text and keeps the parsed key) and
        with the EncryptedData template built directly in lxml."""
        certs = [(None, encrypt_cert)] if encrypt_cert else \
            self.metadata.certs(sp_entity_id, "any", "encryption")
        ours = isinstance(self.sec.crypto, crypto_backend.XmlsecBackend)
        error = None
        for name, cert in certs:
            wrapped, unwrapped = get_pem_wrapped_unwrapped(cert)
            template = encryption_template(name, unwrapped) if ours else \
                pre_encryption_part(key_name=name, encrypt_cert=unwrapped)
            try:
                return self.sec.encrypt_assertion(response, wrapped, template,
                                                  node_xpath=node_xpath)
            except Exception as exc:  # noqa: BLE001 - as upstream: try the next certificate
                error = exc
        if error:
            raise error
        return response


class SchemaConverter(AttributeConverter):
    """Writes attributes with the Name, NameFormat and FriendlyName of
    config/saml_attributes.toml (pysaml2's own maps would rename or drop them)."""

    def __init__(self, schema: AttributeSchema):
        super().__init__(NAME_FORMAT_URI)
        self.schema = schema

    def to_(self, attrvals):
        out = []
        for friendly, values in attrvals.items():
            spec = self.schema.specs[friendly]
            out.append(factory(saml.Attribute, name=spec.name, name_format=spec.name_format,
                               friendly_name=friendly, attribute_value=do_ava(values)))
        return out


class ReleasePolicy(Policy):
    """Short assertion lifetime; attributes released exactly as computed for the SP's
    registration (pysaml2's policy would filter them again against the SP's metadata)."""

    def __init__(self, minutes: int):
        super().__init__({"default": {"lifetime": {"minutes": minutes},
                                      "name_form": NAME_FORMAT_URI}})

    def restrict(self, ava, sp_entity_id, metadata=None):
        return dict(ava)


def entity_id(issuer: str) -> str:
    """The IdP's SAML entity id: the URL of its metadata (stable, resolvable)."""
    return issuer + METADATA_PATH


def sp_stamp(row: SAMLServiceProvider) -> str:
    return row.updated_at.isoformat() if row.updated_at else ""


class SamlIdp:
    """Per-app holder of the pysaml2 Server, its schema and its signed metadata."""

    def __init__(self, settings: dict, keyring):
        self.settings = settings
        self.keyring = keyring
        self.issuer = settings["ISSUER"]
        self.entity_id = entity_id(self.issuer)
        self.schema = AttributeSchema.load(settings["SAML_ATTRIBUTES_FILE"])
        self.policy = ReleasePolicy(int(settings["SAML_ASSERTION_MINUTES"]))
        self._lock = threading.Lock()
        self._server: IdpServer | None = None
        self._stamps: dict[str, str] = {}
        self._loaded: frozenset[str] = frozenset()  # SPs whose metadata the Server holds
        self._keys: tuple | None = None  # (signing kid, published certificates) built with
        self._metadata: tuple[tuple, str] | None = None

    # -- building ---------------------------------------------------------------------
    def _keys_now(self):
        """(the key that signs now, the state the Server must be built with)."""
        signer = self.keyring.saml_signer()
        return signer, (signer.kid, self.keyring.saml_certificates())

    def _config(self, signer) -> IdPConfig:
        issuer = self.issuer
        conf = IdPConfig().load({
            "entityid": self.entity_id,
            # PEM text, not a file: crypto_backend reads either; the certificate goes to
            # the security context and the metadata below, not through a file either.
            "key_file": signer.private_pem.decode("ascii"), "cert_file": None,
            "metadata": {},
            "accepted_time_diff": int(self.settings["SAML_CLOCK_SKEW_SECONDS"]),
            **ALGORITHMS,  # top level: signed metadata
            "service": {"idp": {
                **ALGORITHMS,  # per service: responses (pysaml2 ignores the top level here)
                "name": "Connexion Scolarité",
                "endpoints": {
                    "single_sign_on_service": [(issuer + p, b) for b, p in SSO_PATHS.items()],
                    "single_logout_service": [(issuer + p, b) for b, p in SLO_PATHS.items()],
                },
                "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT],
                # Checked per SP in idp/saml/requests.py, from the SP's own metadata.
                "want_authn_requests_signed": False,
            }},
        })
        conf.attribute_converters = [SchemaConverter(self.schema)]
        return conf

    def _build(self) -> None:
        signer, keys = self._keys_now()
        rows = db.session.scalars(select(SAMLServiceProvider).where(
            SAMLServiceProvider.enabled.is_(True))).all()
        server = IdpServer(config=self._config(signer))
        server.sec.my_cert = certificate_base64(signer.public_pem)  # KeyInfo of signatures
        server.request_args.pop("cert", None)  # no TLS client certificate from a PEM text
        stamps, loaded = {}, set()
        for row in rows:
            # An unusable metadata (expired, malformed) must not take the others down, nor
            # be parsed again until its row changes: its stamp is kept too, or every
            # request naming that SP (a public entity id) would rebuild the whole Server.
            stamps[row.entity_id] = sp_stamp(row)
            try:
                server.metadata.load("inline", row.metadata_xml)
                loaded.add(row.entity_id)
            except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds
                log.error("SAML SP %s: metadata not usable: %s", row.entity_id, exc)
        self._server, self._stamps, self._keys = server, stamps, keys
        self._loaded = frozenset(loaded)
        log.info("SAML server built with %d service provider(s), signing key %s",
                 len(loaded), signer.kid)

    def server(self) -> IdpServer:
        """The current Server (built on first use, rebuilt when the keys changed)."""
        _, keys = self._keys_now()
        if self._server is None or self._keys != keys:
            with self._lock:
                if self._server is None or self._keys != self._keys_now()[1]:
                    self._build()
        return self._server

    def has_metadata(self, entity_id: str) -> bool:
        """Whether the current Server loaded this SP's metadata (an expired or malformed
        one is registered but unusable until its row is updated)."""
        return entity_id in self._loaded

    def server_for(self, row: SAMLServiceProvider) -> IdpServer:
        """The Server, rebuilt first if `row` changed since it was built."""
        server = self.server()
        if self._stamps.get(row.entity_id) != sp_stamp(row):
            with self._lock:
                if self._stamps.get(row.entity_id) != sp_stamp(row):
                    self._build()
            server = self._server
        return server

    def forget(self) -> None:
        """Drop the Server (tests and key changes): the next request builds a new one."""
        with self._lock:
            self._server, self._stamps, self._keys, self._metadata = None, {}, None, None

    # -- metadata ---------------------------------------------------------------------
    def metadata_xml(self) -> str:
        """The IdP's signed metadata, the same on every node (cached per key state and UTC
        day: validUntil counts from the day's start, the ID is a digest of both)."""
        server = self.server()
        day = datetime.now(timezone.utc).date()
        state = (self._keys, day)
        cached = self._metadata
        if cached is None or cached[0] != state:
            certificates = self._keys[1]
            descriptor = entity_descriptor(server.config)
            descriptor.idpsso_descriptor.key_descriptor = do_key_descriptor(
                [certificate_base64(pem) for pem in certificates], None, use="signing")
            start = datetime.combine(day, datetime.min.time(), timezone.utc)
            descriptor.valid_until = (start + timedelta(
                hours=int(self.settings["SAML_METADATA_VALID_HOURS"]))).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
            ident = "_" + hashlib.sha256("|".join(
                [self.entity_id, descriptor.valid_until, *certificates]).encode()).hexdigest()
            _, xml = sign_entity_descriptor(descriptor, ident, server.sec,
                                            sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
            self._metadata = cached = (state, xml)
        return cached[1]
