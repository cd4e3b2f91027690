"""J5 consent: what this relying party will receive, agreed once per RP and claim set.

The claim set is what the RP would actually get: for OIDC the requested scopes it is
registered for, for SAML the attribute names released to the SP. Consent is asked when
there is none, when the RP asks for more than was agreed, or when the RP forces it
(prompt=consent); never for an RP an administrator marked as the school's own.
"""
from __future__ import annotations


from flask import g
from sqlalchemy import select

from ...audit import record
from ...db import db
from ...models import Account, Consent, utcnow
from ...relying_parties import RelyingParty, find, key_for, lookup_many, split_key
from ...signin.registry import adapter_for
from .descriptions import describe


def rp_key_of(pending) -> str:
    return key_for(pending.protocol, pending.client_id)


def requested_items(pending, party: RelyingParty | None = None) -> list[str]:
    """What the RP asks for and may receive, in the order asked, each once."""
    party = party or find(rp_key_of(pending))
    items = list(dict.fromkeys(str(i) for i in pending.requested or ()))
    if pending.protocol == "oidc" and party is not None:
        # Authlib grants only the registered scopes: ask only about those.
        items = [i for i in items if i in party.scopes]
    return items


def live_consent(account: Account, rp_key: str) -> Consent | None:
    """The account's standing consent for this RP (memoised for the request)."""
    memo = g.setdefault("live_consents", {})
    if (account.id, rp_key) not in memo:
        memo[(account.id, rp_key)] = db.session.scalar(select(Consent).where(
            Consent.account_id == account.id, Consent.rp_key == rp_key,
            Consent.withdrawn_at.is_(None)).order_by(Consent.id.desc()).limit(1))
    return memo[(account.id, rp_key)]


def is_needed(ctx) -> bool:
    if ctx.account is None or ctx.pending is None:
        return False
    if ctx.pending.force_consent:
        return True
    party = find(rp_key_of(ctx.pending))
    if party is None or party.trusted:
        return False  # an unknown RP is refused by its adapter at fulfil
    items = requested_items(ctx.pending, party)
    if not items:
        return False
    consent = live_consent(ctx.account, party.key)
    return consent is None or not set(items) <= set(consent.claims or ())


def what_is_shared(pending, account: Account) -> list[str]:
    return describe(pending.protocol, requested_items(pending), account)


def grant(account: Account, pending) -> Consent:
    """Remember the consent (the union with what was agreed before) and let this
    request go on, prompt=consent included."""
    rp_key = rp_key_of(pending)
    items = requested_items(pending)
    consent = live_consent(account, rp_key)
    now = utcnow()
    if consent is None:
        consent = Consent(account_id=account.id, rp_key=rp_key, claims=sorted(items),
                          granted_at=now)
        db.session.add(consent)
    else:
        consent.claims = sorted(set(consent.claims or ()) | set(items))
        consent.granted_at = now
    db.session.flush()
    g.pop("live_consents", None)
    if pending.force_consent:
        pending.force_consent = False
        pending.save()
    record("consent_granted", actor=account.identifier, target=rp_key[:128], claims=items)
    return consent


def consents_of(account: Account) -> list[dict]:
    """The account's standing consents with the RP's name and what it receives
    (two queries whatever their number)."""
    rows = db.session.scalars(select(Consent).where(
        Consent.account_id == account.id, Consent.withdrawn_at.is_(None))
        .order_by(Consent.granted_at.desc())).all()
    parties = lookup_many([row.rp_key for row in rows])
    out = []
    for row in rows:
        protocol, identifier = split_key(row.rp_key)
        party = parties.get(row.rp_key)
        out.append({"id": row.id, "rp_key": row.rp_key,
                    "name": party.name if party else identifier,
                    "granted_at": row.granted_at,
                    "shared": describe(protocol, row.claims or (), account)})
    return out


def withdraw(account: Account, consent_id: int) -> bool:
    """Withdraw one of the account's consents; the RP's refresh tokens stop working and
    consent is asked again at its next request. False when it is not the account's."""
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.account_id != account.id or consent.withdrawn_at:
        return False
    consent.withdrawn_at = utcnow()
    protocol, identifier = split_key(consent.rp_key)
    adapter = adapter_for(protocol)
    if adapter is not None:
        adapter.revoke(account, identifier)  # OIDC: the client's refresh tokens stop
    db.session.flush()
    g.pop("live_consents", None)
    record("consent_withdrawn", actor=account.identifier, target=consent.rp_key[:128])
    return True
