"""Relying parties: OIDC clients and SAML service providers, registered through the
services the `idp clients` / `idp saml` commands use.

    OIDCClientFactory()                  confidential (client_secret_basic), trusted
    OIDCClientFactory(public=True)       a public client (PKCE, no secret)
    OIDCClientFactory(untrusted=True)    asks for consent (not the school's own service)
    SamlSPFactory()                      minimal metadata, one ACS, signed answers
    SamlSPFactory(assertion_signed=True) only the assertion signed (also response_signed)
"""
from __future__ import annotations

from dataclasses import dataclass

import factory

from idp.oidc.clients import register_client
from idp.saml.registry import register_sp

from .base import AppFactory, next_number


@dataclass
class MadeClient:
    client_id: str
    client_secret: str | None
    redirect_uri: str
    name: str


@dataclass
class MadeSP:
    id: int
    entity_id: str
    name: str
    acs: str


def sp_metadata(entity_id: str = "https://sp.example/sp", name: str | None = None) -> str:
    """Minimal SP metadata: one HTTP-POST ACS beside the entity id, no keys."""
    org = (f"<md:Organization><md:OrganizationName xml:lang=\"fr\">{name}</md:OrganizationName>"
           f"<md:OrganizationDisplayName xml:lang=\"fr\">{name}</md:OrganizationDisplayName>"
           f"<md:OrganizationURL xml:lang=\"fr\">https://sp.example/</md:OrganizationURL>"
           f"</md:Organization>") if name else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">'
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="{entity_id.rsplit("/", 1)[0]}/acs" index="0"/>'
        f'</md:SPSSODescriptor>{org}</md:EntityDescriptor>')


class OIDCClientFactory(AppFactory):
    class Meta:
        model = MadeClient

    class Params:
        confidential = factory.Trait(kind="confidential")
        public = factory.Trait(kind="public")
        untrusted = factory.Trait(trusted=False)

    name = factory.LazyFunction(lambda: f"RP {next_number()}")
    redirect_uris = factory.LazyFunction(lambda: ["https://rp.example/callback"])
    kind = "confidential"
    # The school's own service: no consent page (untrusted=True to test consent).
    trusted = True

    @classmethod
    def make_row(cls, *, kind, trusted, **fields):
        registered = register_client(public=kind == "public", **fields)
        registered.row.trusted_for_school = trusted
        return registered

    @classmethod
    def made(cls, registered, values):
        return MadeClient(registered.row.client_id, registered.client_secret,
                          values["redirect_uris"][0], registered.row.name)


class SamlSPFactory(AppFactory):
    """An SP from metadata (sp_metadata by default; pass metadata= for a real SP's)."""

    class Meta:
        model = MadeSP

    class Params:
        assertion_signed = factory.Trait(sign_mode="assertion")
        response_signed = factory.Trait(sign_mode="response")
        host = factory.LazyFunction(lambda: f"sp{next_number()}.example")

    entity_id = factory.LazyAttribute(lambda o: f"https://{o.host}/sp")
    name = factory.LazyAttribute(lambda o: f"SP {o.host}")
    metadata = factory.LazyAttribute(lambda o: sp_metadata(o.entity_id))
    attributes = "teleservices"
    sign_mode = "both"
    encrypt = None

    @classmethod
    def make_row(cls, *, entity_id, **fields):
        return register_sp(**fields)

    @classmethod
    def made(cls, row, values):
        return MadeSP(row.id, row.entity_id, row.name,
                      f"{row.entity_id.rsplit('/', 1)[0]}/acs")
