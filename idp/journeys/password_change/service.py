"""Forced password change campaigns (issue 17, point 3), as the ministry ran in spring
2024 after stolen ÉduConnect passwords were used on ENT messaging.

An operator picks a population (profile, academy, school UAI, password last chosen
before a date); never-activated accounts (a school letter never used: nothing to steal),
accounts already forced and not done yet, and FranceConnect-only accounts (no password of
their own) are left out. Each account forced gets a demand; at its next sign-in the plan's
"password_change" step (views.py) asks for a new password, and once it is chosen every
other session and refresh token of the account ends (account/credentials.py). Progress
is forced / done / remaining per campaign. Nothing here is shown to a family except its
own demand.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from sqlalchemy import Integer, and_, exists, func, literal, or_, select

from ...audit import record
from ...db import db
from ...models import (Account, AccountProfile, AccountState, FranceConnectLink,
                       GuardianLink, PasswordCampaign, PasswordChangeDemand, School, utcnow)

# Accounts whose password a family chose: never-activated ones (provisional, deleted)
# and deactivated ones are not forced.
FORCEABLE_STATES = (AccountState.active, AccountState.pending_email)


@dataclass(frozen=True)
class Population:
    """The filters of a campaign; None: any."""
    profile: AccountProfile | None = None
    academy: str | None = None
    uai: str | None = None
    changed_before: date | None = None

    def as_dict(self) -> dict:
        return {"profile": self.profile.value if self.profile else None,
                "academy": self.academy, "uai": self.uai,
                "changed_before": self.changed_before.isoformat()
                if self.changed_before else None}


def _franceconnect_only():
    """Accounts made by FranceConnect (issue 19) that never chose a password: their hash
    is still the placeholder put there at linking."""
    return exists().where(FranceConnectLink.account_id == Account.id,
                          FranceConnectLink.placeholder_hash == Account.password_hash)


def _pending_demand():
    return exists().where(PasswordChangeDemand.account_id == Account.id,
                          PasswordChangeDemand.done_at.is_(None))


def _selection(population: Population):
    """The WHERE clause of the accounts a campaign with these filters forces."""
    clauses = [Account.state.in_(FORCEABLE_STATES), ~_pending_demand(),
               ~_franceconnect_only()]
    if population.profile is not None:
        clauses.append(Account.profile == population.profile)
    if population.academy:
        clauses.append(Account.academy_code == population.academy)
    if population.uai:
        school_id = select(School.id).where(School.uai == population.uai.upper()) \
            .scalar_subquery()
        pupil = Account.__table__.alias("pupil")
        parent_of_school = exists().where(GuardianLink.guardian_id == Account.id,
                                          GuardianLink.pupil_id == pupil.c.id,
                                          pupil.c.school_id == school_id)
        clauses.append(or_(Account.school_id == school_id, parent_of_school))
    if population.changed_before is not None:
        limit = datetime.combine(population.changed_before, time.min, tzinfo=timezone.utc)
        chosen = func.coalesce(Account.password_changed_at, Account.activated_at,
                               Account.created_at)
        clauses.append(chosen < limit)
    return and_(*clauses)


def count(population: Population) -> dict:
    """What a campaign would force, without forcing: {"accounts", "parents", "pupils"}."""
    rows = db.session.execute(select(Account.profile, func.count()).where(
        _selection(population)).group_by(Account.profile)).all()
    by_profile = {profile.value if hasattr(profile, "value") else profile: n
                  for profile, n in rows}
    return {"accounts": sum(by_profile.values()), "parents": by_profile.get("parent", 0),
            "pupils": by_profile.get("pupil", 0)}


def force(population: Population, by: str) -> PasswordCampaign:
    """Start a campaign: one demand per account selected (one INSERT ... SELECT),
    audited. Flushes, never commits."""
    campaign = PasswordCampaign(created_by=by, filters=population.as_dict())
    db.session.add(campaign)
    db.session.flush()
    table = PasswordChangeDemand.__table__
    db.session.execute(table.insert().from_select(
        ["campaign_id", "account_id", "forced_at"],
        select(literal(campaign.id, Integer()), Account.id,
               literal(utcnow(), table.c.forced_at.type)).where(_selection(population))))
    campaign.forced = db.session.scalar(
        select(func.count()).where(PasswordChangeDemand.campaign_id == campaign.id))
    record("password_campaign_started", actor=by, campaign=campaign.id,
           forced=campaign.forced, **population.as_dict())
    return campaign


def progress(campaign_id: int | None = None) -> list[dict]:
    """Per campaign (newest first, or the one asked): forced, done, remaining."""
    D = PasswordChangeDemand
    query = select(PasswordCampaign, func.count(D.account_id), func.count(D.done_at)) \
        .outerjoin(D, D.campaign_id == PasswordCampaign.id) \
        .group_by(PasswordCampaign.id).order_by(PasswordCampaign.id.desc())
    if campaign_id is not None:
        query = query.where(PasswordCampaign.id == campaign_id)
    return [{"campaign": c.id, "created_at": c.created_at, "created_by": c.created_by,
             "filters": c.filters, "forced": forced, "done": done,
             "remaining": forced - done}
            for c, forced, done in db.session.execute(query).all()]


def is_forced(account: Account) -> bool:
    """The account has a demand not yet done (read at sign-in)."""
    return bool(db.session.scalar(select(
        exists().where(PasswordChangeDemand.account_id == account.id,
                       PasswordChangeDemand.done_at.is_(None)))))


def mark_done(account: Account) -> None:
    """The account chose its new password: its open demands are done."""
    demands = db.session.scalars(select(PasswordChangeDemand).where(
        PasswordChangeDemand.account_id == account.id,
        PasswordChangeDemand.done_at.is_(None))).all()
    for demand in demands:
        demand.done_at = utcnow()
    record("forced_password_changed", actor=account.identifier,
           campaigns=[d.campaign_id for d in demands])
