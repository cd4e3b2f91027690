"""Where an account stands before a service: the charters it still has to accept, the
relying party's notice it has not acknowledged, when it last answered "Contact et
préférences". The charter, preferences and notice steps are checked on every gated
request, so their state is read in ONE query (scalar subqueries, no table scan: every
lookup is on an indexed column) and shared by the three steps for the request.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from flask import g
from sqlalchemy import bindparam, exists, literal, select

from ..db import db
from ..models import (Account, CharterAcceptance, CharterVersion, ContactPreferences,
                      RPNotice, RPNoticeAcknowledgment)
from ..models.consent import GENERAL_AUDIENCE
from ..relying_parties import key_for


@dataclass(frozen=True)
class Standing:
    charters_due: tuple[int, ...]         # charter version ids, general first
    notice_due: int | None                # the RP's latest notice, not yet acknowledged
    preferences_asked_at: datetime | None  # None: never answered


def _latest(model, column, value):
    return (select(model.id).where(column == value)
            .order_by(model.published_at.desc(), model.id.desc()).limit(1).scalar_subquery())


@functools.cache
def _statement(with_rp: bool):
    """The query, built once per shape (with or without an RP) with bound parameters:
    building it is what costs on every request, not running it."""
    account = bindparam("account_id")
    audiences = [literal(GENERAL_AUDIENCE)] + ([bindparam("rp_key")] if with_rp else [])
    columns = []
    for audience in audiences:
        latest = _latest(CharterVersion, CharterVersion.audience, audience)
        columns += [latest, exists().where(CharterAcceptance.account_id == account,
                                           CharterAcceptance.charter_version_id == latest)]
    if with_rp:
        latest = _latest(RPNotice, RPNotice.rp_key, bindparam("rp_key"))
        columns += [latest, exists().where(RPNoticeAcknowledgment.account_id == account,
                                           RPNoticeAcknowledgment.notice_id == latest)]
    columns.append(select(ContactPreferences.asked_at)
                   .where(ContactPreferences.account_id == account).scalar_subquery())
    return select(*columns)


def standing(account: Account, pending) -> Standing:
    """The account's standing for this request's pending RP (memoised per request)."""
    rp_key = key_for(pending.protocol, pending.client_id) if pending is not None else None
    memo = g.setdefault("account_standing", {})
    if (account.id, rp_key) in memo:
        return memo[(account.id, rp_key)]
    params = {"account_id": account.id}
    if rp_key:
        params["rp_key"] = rp_key
    # On the session's connection: a Core select needs none of the ORM's execution layer.
    row = db.session.connection().execute(_statement(rp_key is not None), params).one()
    n = 2 if rp_key else 1  # charter audiences
    charters = tuple(row[i] for i in range(0, 2 * n, 2) if row[i] is not None and not row[i + 1])
    notice = None
    if rp_key and row[2 * n] is not None and not row[2 * n + 1]:
        notice = row[2 * n]
    memo[(account.id, rp_key)] = Standing(charters, notice, row[-1])
    return memo[(account.id, rp_key)]


def forget() -> None:
    """After a step wrote its answer: the next check reads the database again."""
    g.pop("account_standing", None)
