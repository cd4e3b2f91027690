"""Relying parties an administrator marks as the school's own service ("trusted for the
school"): families are not asked for consent for them; the charter, the RP's notice and
prompt=consent still apply. Behind `idp clients trust`."""
from __future__ import annotations

from sqlalchemy import select

from .. import models
from ..audit import record
from ..db import db
from ..relying_parties import RelyingParty, UnknownRelyingParty, require, split_key


class TrustError(ValueError):
    """The setting cannot be changed; the message says why."""


def set_trusted(rp_key: str, trusted: bool) -> RelyingParty:
    """Set or clear the flag on the OIDC client or SAML service provider."""
    try:
        party = require(rp_key)
    except UnknownRelyingParty as exc:
        raise TrustError(str(exc)) from exc
    protocol, identifier = split_key(party.key)
    if protocol == "oidc":
        model, column = models.OIDCClient, models.OIDCClient.client_id
    else:
        model = models.SAMLServiceProvider
        column = model.entity_id
    row = db.session.scalar(select(model).where(column == identifier))
    if not hasattr(row, "trusted_for_school"):
        raise TrustError("this kind of relying party has no trust setting")
    row.trusted_for_school = trusted
    db.session.flush()
    record("rp_trust_changed", target=party.key[:128], trusted=trusted)
    return party
