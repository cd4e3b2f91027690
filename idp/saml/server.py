"""The pysaml2 IdP `Server`, built once per app and rebuilt only when the SP registry
changes.

Each request that names an SP reads its row (one indexed query, which is also how a
disabled SP stops at once) and compares the row's `updated_at` with the one the current
Server was built from: equal, the Server is reused; different or unknown, the Server is
rebuilt from every enabled SP's stored metadata. No metadata is parsed per request.
The signed metadata of the IdP is cached the same way (and renewed daily, for its
validUntil).
"""
from __future__ import annotations

import logging
import threading
import time

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.assertion import Policy
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.s_utils import do_ava, factory
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server
from saml2.sigver import get_pem_wrapped_unwrapped, pre_encryption_part
from saml2.time_util import in_a_while
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from sqlalchemy import select

from ..db import db
from ..models import SAMLServiceProvider
from . import crypto_backend, keys
from .xml_encryption import encryption_template
from .attributes import AttributeSchema

log = logging.getLogger(__name__)

SSO_PATHS = {BINDING_HTTP_REDIRECT: "/saml/sso/redirect", BINDING_HTTP_POST: "/saml/sso/post"}
SLO_PATHS = {BINDING_HTTP_REDIRECT: "/saml/slo/redirect", BINDING_HTTP_POST: "/saml/slo/post"}
METADATA_PATH = "/saml/metadata"
ALGORITHMS = {"signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256}


class SamlUnavailable(RuntimeError):
    """The IdP has no SAML signing key yet (`idp keys generate` creates it)."""


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

    def __init__(self, settings: dict):
        self.settings = settings
        self.issuer = settings["ISSUER"]
        self.entity_id = entity_id(self.issuer)
        self.schema = AttributeSchema.load(settings["SAML_ATTRIBUTES_FILE"])
        self.policy = ReleasePolicy(int(settings["SAML_ASSERTION_MINUTES"]))
        self._lock = threading.Lock()
        self._server: IdpServer | None = None
        self._stamps: dict[str, str] = {}
        self._metadata: tuple[float, str] | None = None

    # -- building ---------------------------------------------------------------------
    def _config(self) -> IdPConfig:
        key_file, cert_file = keys.key_paths(self.settings["KEYS_DIR"])
        if not (key_file.exists() and cert_file.exists()):
            raise SamlUnavailable("no SAML signing key: run `idp keys generate`")
        issuer = self.issuer
        conf = IdPConfig().load({
            "entityid": self.entity_id,
            "key_file": str(key_file), "cert_file": str(cert_file),
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
        rows = db.session.scalars(select(SAMLServiceProvider).where(
            SAMLServiceProvider.enabled.is_(True))).all()
        server = IdpServer(config=self._config())
        stamps = {}
        for row in rows:
            try:  # one unusable metadata (expired, malformed) must not take the others down
                server.metadata.load("inline", row.metadata_xml)
                stamps[row.entity_id] = sp_stamp(row)
            except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds
                log.error("SAML SP %s: metadata not usable: %s", row.entity_id, exc)
        self._server, self._stamps = server, stamps
        log.info("SAML server built with %d service provider(s)", len(stamps))

    def server(self) -> IdpServer:
        """The current Server (built on first use)."""
        if self._server is None:
            with self._lock:
                if self._server is None:
                    self._build()
        return self._server

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
            self._server, self._stamps, self._metadata = None, {}, None

    # -- metadata ---------------------------------------------------------------------
    def metadata_xml(self) -> str:
        """The IdP's signed metadata (cached; renewed daily since it carries validUntil)."""
        cached = self._metadata
        if cached is None or time.time() - cached[0] > 86400:
            server = self.server()
            descriptor = entity_descriptor(server.config)
            descriptor.valid_until = in_a_while(
                hours=int(self.settings["SAML_METADATA_VALID_HOURS"]))
            _, xml = sign_entity_descriptor(descriptor, None, server.sec,
                                            sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
            self._metadata = cached = (time.time(), xml)
        return cached[1]
