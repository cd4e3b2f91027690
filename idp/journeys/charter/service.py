"""J5 charter of use: the latest published version of the general charter, and of the
charter of the relying party being reached when it has one, must be accepted.

A new version is asked at the next passage through the plan (the step is re-checked on
every gated request), so nothing is issued under a charter the family has not seen.
"""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from ...audit import record
from ...db import db
from ...models import Account, CharterAcceptance, CharterVersion
from ...models.consent import GENERAL_AUDIENCE
from ...relying_parties import key_for


def audiences(pending) -> list[str]:
    """The charters that apply: the general one, and the RP's own when reaching one."""
    if pending is None:
        return [GENERAL_AUDIENCE]
    return [GENERAL_AUDIENCE, key_for(pending.protocol, pending.client_id)]


def charters_to_accept(account: Account, pending) -> list[CharterVersion]:
    """The latest version of each applicable charter the account has not accepted,
    general first (one query, memoised for the request)."""
    wanted = audiences(pending)
    memo_key = (account.id, tuple(wanted))
    memo = g.setdefault("charters_to_accept", {})
    if memo_key in memo:
        return memo[memo_key]
    rows = db.session.execute(
        select(CharterVersion, CharterAcceptance.id)
        .outerjoin(CharterAcceptance,
                   (CharterAcceptance.charter_version_id == CharterVersion.id)
                   & (CharterAcceptance.account_id == account.id))
        .where(CharterVersion.audience.in_(wanted))
        .order_by(CharterVersion.published_at.desc(), CharterVersion.id.desc())).all()
    latest: dict[str, tuple[CharterVersion, int | None]] = {}
    for version, accepted in rows:
        latest.setdefault(version.audience, (version, accepted))
    memo[memo_key] = [latest[a][0] for a in wanted if a in latest and latest[a][1] is None]
    return memo[memo_key]


def is_needed(ctx) -> bool:
    return ctx.account is not None and bool(charters_to_accept(ctx.account, ctx.pending))


def accept(account: Account, charter: CharterVersion) -> None:
    """Record the acceptance of this version (once; a repeat changes nothing)."""
    exists = db.session.scalar(select(CharterAcceptance.id).where(
        CharterAcceptance.account_id == account.id,
        CharterAcceptance.charter_version_id == charter.id))
    if exists is None:
        db.session.add(CharterAcceptance(account_id=account.id, charter_version_id=charter.id))
        db.session.flush()
        record("charter_accepted", actor=account.identifier, target=charter.audience[:128],
               version=charter.version)
    g.pop("charters_to_accept", None)
