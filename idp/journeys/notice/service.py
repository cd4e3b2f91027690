"""RP notices: the latest version of the notice of the relying party being reached,
acknowledged once per account."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from ...audit import record
from ...db import db
from ...models import Account, RPNotice, RPNoticeAcknowledgment
from ...relying_parties import key_for


def notice_to_acknowledge(account: Account, pending) -> RPNotice | None:
    """The RP's latest notice if this account has not acknowledged it (one query,
    memoised for the request)."""
    if pending is None:
        return None
    rp_key = key_for(pending.protocol, pending.client_id)
    memo = g.setdefault("notice_to_acknowledge", {})
    if (account.id, rp_key) not in memo:
        row = db.session.execute(
            select(RPNotice, RPNoticeAcknowledgment.id)
            .outerjoin(RPNoticeAcknowledgment,
                       (RPNoticeAcknowledgment.notice_id == RPNotice.id)
                       & (RPNoticeAcknowledgment.account_id == account.id))
            .where(RPNotice.rp_key == rp_key)
            .order_by(RPNotice.published_at.desc(), RPNotice.id.desc()).limit(1)).first()
        memo[(account.id, rp_key)] = row[0] if row is not None and row[1] is None else None
    return memo[(account.id, rp_key)]


def is_needed(ctx) -> bool:
    return ctx.account is not None and notice_to_acknowledge(ctx.account, ctx.pending) is not None


def acknowledge(account: Account, notice: RPNotice) -> None:
    """Record that the account has read this notice version (once)."""
    exists = db.session.scalar(select(RPNoticeAcknowledgment.id).where(
        RPNoticeAcknowledgment.account_id == account.id,
        RPNoticeAcknowledgment.notice_id == notice.id))
    if exists is None:
        db.session.add(RPNoticeAcknowledgment(account_id=account.id, notice_id=notice.id))
        db.session.flush()
        record("rp_notice_acknowledged", actor=account.identifier, target=notice.rp_key[:128],
               version=notice.version)
    g.pop("notice_to_acknowledge", None)
