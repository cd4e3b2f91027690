"""RP notices: the latest version of the notice of the relying party being reached,
acknowledged once per account."""
from __future__ import annotations

from sqlalchemy import select

from ...audit import record
from ...db import db
from ...models import Account, RPNotice, RPNoticeAcknowledgment
from ..standing import forget, standing


def notice_to_acknowledge(account: Account, pending) -> int | None:
    """The id of the RP's latest notice if this account has not acknowledged it."""
    if pending is None:
        return None
    return standing(account, pending).notice_due


def wording(notice: RPNotice, pupil: bool) -> str:
    """The text of this version as shown: the pupils' "tu" wording when the account is a
    pupil's and the version has one, else the common text (as for a charter)."""
    return notice.pupil_body if pupil and notice.pupil_body else notice.body


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
    forget()
