"""Relying parties named the same way for both protocols: an `rp_key` is
"oidc:<client_id>" or "saml:<entity_id>". Charters, notices and consents are keyed by it,
so a rule written once holds for OIDC clients and SAML service providers alike.
"""
from __future__ import annotations

import re

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import g
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from . import models
from .db import db
from .models import OIDCClient

PROTOCOLS = ("oidc", "saml")


@dataclass(frozen=True)
class Problem:
    """Why one field of a relying party is refused (oidc.clients.validate_client,
    saml.registry.validate_sp): `message` in English, as the `idp clients` and `idp saml`
    commands print it; `french` the sentence(s) the console shows beside the field (lazy,
    through _l; one, or a tuple of them)."""
    message: str
    french: object

    def __str__(self) -> str:
        return self.message

    def sentences(self) -> tuple:
        return self.french if isinstance(self.french, tuple) else (self.french,)

    def shown(self) -> str:
        return " ".join(str(s) for s in self.sentences())


class UnknownRelyingParty(ValueError):
    """An rp_key that names no registered relying party."""


@dataclass(frozen=True)
class RelyingParty:
    key: str
    protocol: str
    identifier: str     # client_id or entity id
    name: str
    trusted: bool       # marked by an administrator as the school's own service
    scopes: tuple       # OIDC: registered scopes; SAML: released attribute names
    home_url: str | None = None


def key_for(protocol: str, identifier: str) -> str:
    return f"{protocol}:{identifier}"


def split_key(rp_key: str) -> tuple[str, str]:
    protocol, _, identifier = (rp_key or "").partition(":")
    if protocol not in PROTOCOLS or not identifier:
        raise UnknownRelyingParty(rp_key)
    return protocol, identifier


def _saml_model():
    # The SAML adapter owns its model; the lookups below work once it is there.
    return getattr(models, "SAMLServiceProvider", None)


def _from_oidc(row: OIDCClient) -> RelyingParty:
    home = None
    if row.redirect_uris:
        parts = urlsplit(row.redirect_uris[0])
        home = f"{parts.scheme}://{parts.netloc}/"
    return RelyingParty(key_for("oidc", row.client_id), "oidc", row.client_id, row.name,
                        bool(row.trusted_for_school), tuple(row.scopes or ()), home)


_ACS_LOCATION = re.compile(
    r'<(?:[\w-]+:)?AssertionConsumerService\b[^>]*?\bLocation="(https?://[^"/]+)[^"]*"')


def _saml_home(row) -> str | None:
    """The origin of the SP's first assertion consumer service (its home page for "Mes
    services"), read from its registered metadata; None when there is none, or when the
    row was loaded without its metadata (the SSO path defers it: reading it there cost a
    query per response, and only the home page needs the link)."""
    state = sa_inspect(row, raiseerr=False)
    if state is not None and "metadata_xml" in state.unloaded:
        return None
    match = _ACS_LOCATION.search(getattr(row, "metadata_xml", None) or "")
    return match.group(1) + "/" if match else None


def _from_saml(row) -> RelyingParty:
    return RelyingParty(key_for("saml", row.entity_id), "saml", row.entity_id, row.name,
                        bool(getattr(row, "trusted_for_school", False)),
                        tuple(row.attributes or ()), _saml_home(row))


def find(rp_key: str) -> RelyingParty | None:
    """The relying party behind an rp_key (memoised for the request), or None."""
    memo = g.setdefault("relying_parties", {})
    if rp_key not in memo:
        loaded = g.get("oidc_clients", {})  # oidc.clients.query_client's per-request memo
        protocol, _, identifier = rp_key.partition(":")
        if protocol == "oidc" and loaded.get(identifier) is not None:
            memo[rp_key] = _from_oidc(loaded[identifier].row)
        elif protocol == "saml" and g.get("saml_sps", {}).get(identifier) is not None:
            memo[rp_key] = _from_saml(g.saml_sps[identifier])  # saml.requests.find_sp's memo
        else:
            memo[rp_key] = lookup_many([rp_key]).get(rp_key)
    return memo[rp_key]


def lookup_many(rp_keys) -> dict[str, RelyingParty]:
    """Several relying parties in at most one query per protocol."""
    wanted: dict[str, set[str]] = {"oidc": set(), "saml": set()}
    for key in rp_keys:
        try:
            protocol, identifier = split_key(key)
        except UnknownRelyingParty:
            continue
        wanted[protocol].add(identifier)
    found: dict[str, RelyingParty] = {}
    if wanted["oidc"]:
        for row in db.session.scalars(
                select(OIDCClient).where(OIDCClient.client_id.in_(wanted["oidc"]))):
            found[key_for("oidc", row.client_id)] = _from_oidc(row)
    saml = _saml_model()
    if wanted["saml"] and saml is not None:
        for row in db.session.scalars(select(saml).where(saml.entity_id.in_(wanted["saml"]))):
            found[key_for("saml", row.entity_id)] = _from_saml(row)
    return found


def enabled_parties() -> list[RelyingParty]:
    """Every enabled relying party of both protocols, by name."""
    parties = [_from_oidc(row) for row in db.session.scalars(
        select(OIDCClient).where(OIDCClient.enabled.is_(True)))]
    saml = _saml_model()
    if saml is not None:
        parties += [_from_saml(row) for row in db.session.scalars(
            select(saml).where(saml.enabled.is_(True)))]
    return sorted(parties, key=lambda p: p.name.lower())


def require(rp_key: str) -> RelyingParty:
    """For administrators' commands: the relying party, or a clear error."""
    party = lookup_many([rp_key]).get(rp_key)
    if party is None:
        raise UnknownRelyingParty(
            f"no relying party {rp_key!r}: use oidc:<client_id> or saml:<entity_id> "
            "of a registered client")
    return party
