"""Write an import plan (planning.py) with bulk statements: multi-row INSERT ...
RETURNING, UPDATE by primary key. Flushes, never commits.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, tuple_, update

from ..db import db
from ..models import (Account, AccountProfile, AccountState, DeclinedGuardianLink,
                      FranceConnectLink, GuardianLink, PupilRecord, RecordGuardianLink,
                      RepresentativeRecord)
from .bulk import insert_rows
from .credentials import locked_password_hash
from .names import allocate_identifiers
from .planning import ImportPlan, chunks, load_chunked


def _touched(state) -> bool:
    """An existing record to update: changed data, or an account (re)created for it."""
    return state.id is not None and (bool(state.changes) or
                                     state.account_id != state.old_account_id)


def apply_plan(plan: ImportPlan, now: datetime) -> int:
    """Write the plan (flushes, never commits). Returns the number of accounts created."""
    school = plan.school
    P, R = PupilRecord, RepresentativeRecord
    to_update = [p for p in plan.pupils if p.id is not None]
    reps = list(plan.reps.values())
    reps_to_update = [r for r in reps if r.id is not None]
    created = _create_accounts(plan, now)
    new_pupils = [p for p in plan.pupils if p.id is None]
    if new_pupils:
        ids = insert_rows(P.__table__, [
            {"national_id": p.row.national_id, "school_id": school.id,
             "first_name": p.row.first_name, "last_name": p.row.last_name,
             "birth_date": p.row.birth_date, "class_name": p.row.class_name,
             "account_id": p.account_id, "created_at": now, "updated_at": now}
            for p in new_pupils], want_ids=True)
        for pupil, new_id in zip(new_pupils, ids):
            pupil.id = new_id
    _bulk_update(P, [{"id": p.id, "account_id": p.account_id, "updated_at": now, **p.changes}
                     for p in to_update if _touched(p)])
    new_reps = [r for r in reps if r.id is None]
    if new_reps:
        ids = insert_rows(R.__table__, [
            {"academy_code": school.academy_code, "match_key": r.key, "first_name": r.first_name,
             "last_name": r.last_name, "phone": r.phone, "email": r.email,
             "account_id": r.account_id, "created_at": now, "updated_at": now}
            for r in new_reps], want_ids=True)
        for rep, new_id in zip(new_reps, ids):
            rep.id = new_id
    _bulk_update(R, [{"id": r.id, "account_id": r.account_id, "updated_at": now,
                      **{("match_key" if k == "key" else k): v for k, v in r.changes.items()}}
                     for r in reps_to_update if _touched(r)])
    _sync_accounts(plan)
    _write_links(plan)
    return created


def _bulk_update(model, rows: list[dict]) -> None:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        db.session.execute(update(model), group)


def _create_accounts(plan: ImportPlan, now: datetime) -> int:
    pupils = [p for p in plan.pupils if p.account_id is None]
    reps = [r for r in plan.reps.values() if r.account_id is None]
    if not pupils and not reps:
        return 0
    identifiers = allocate_identifiers([(p.row.first_name, p.row.last_name) for p in pupils] +
                                       [(r.first_name, r.last_name) for r in reps])
    school, locked = plan.school, locked_password_hash()
    common = {"password_hash": locked, "state": AccountState.provisional,
              "academy_code": school.academy_code, "school_id": school.id, "created_at": now}
    values = [{**common, "identifier": ident, "identifier_stem": ident.rstrip("0123456789"),
               "profile": AccountProfile.pupil, "first_name": p.row.first_name,
               "last_name": p.row.last_name, "birth_date": p.row.birth_date,
               "class_name": p.row.class_name, "email": None, "phone": None}
              for p, ident in zip(pupils, identifiers)]
    values += [{**common, "identifier": ident, "identifier_stem": ident.rstrip("0123456789"),
                "profile": AccountProfile.parent, "first_name": r.first_name,
                "last_name": r.last_name, "birth_date": None, "class_name": None,
                "email": r.email, "phone": r.phone}
               for r, ident in zip(reps, identifiers[len(pupils):])]
    ids = insert_rows(Account.__table__, values, want_ids=True)
    for owner, new_id in zip(pupils + reps, ids):
        owner.account_id = new_id
    return len(ids)


def merged_accounts(account_ids) -> dict[int, int]:
    """Accounts merged into another ("Ajouter un enfant", "Fusionner deux comptes") ->
    the account that took over, chains followed. Their school records stay on them (a
    record holds one account, and the kept one may hold its own school's), so an import
    links the account that took over and leaves the closed one's names alone."""
    found: dict[int, int] = {}
    wanted = sorted(set(account_ids))
    while wanted:
        step = dict(load_chunked(lambda c: select(Account.id, Account.merged_into_id).where(
            Account.id.in_(c), Account.merged_into_id.is_not(None)), wanted))
        found.update(step)
        wanted = sorted(set(step.values()) - set(found))
    final = {}
    for start in found:
        target, seen = found[start], {start}
        while target in found and target not in seen:
            seen.add(target)
            target = found[target]
        final[start] = target
    return final


def _sync_accounts(plan: ImportPlan) -> None:
    """Accounts mirror the school data; contact details only until the family activates
    (then they are the family's own, managed in their account)."""
    mirror = ("first_name", "last_name", "birth_date", "class_name", "school_id")
    _bulk_update(Account, [{"id": p.account_id, **{k: v for k, v in p.changes.items()
                                                   if k in mirror}}
                           for p in plan.pupils if p.changes and p.account_id])
    merged = merged_accounts(r.account_id for r in plan.reps.values() if r.account_id)
    reps = [r for r in plan.reps.values()
            if r.changes and r.account_id and r.account_id not in merged]
    # A FranceConnected account's names come from FranceConnect and stay read-only.
    franceconnected = {i for chunk in chunks([r.account_id for r in reps])
                       for i in db.session.scalars(select(FranceConnectLink.account_id).where(
                           FranceConnectLink.account_id.in_(chunk)))}
    _bulk_update(Account, [{"id": r.account_id, "first_name": r.first_name,
                            "last_name": r.last_name} for r in reps
                           if r.account_id not in franceconnected])
    contact = [r for r in reps if {"phone", "email"} & set(r.changes)]
    if contact:
        table = Account.__table__
        db.session.execute(
            table.update().where(table.c.id == bindparam("b_id"),
                                 table.c.activated_at.is_(None))
            .values(phone=bindparam("b_phone"), email=bindparam("b_email")),
            [{"b_id": r.account_id, "b_phone": r.phone, "b_email": r.email} for r in contact])


def _write_links(plan: ImportPlan) -> None:
    """Record-level links as the file says, and the account-level GuardianLinks that
    the sign-in and the relying parties read."""
    L = RecordGuardianLink
    if plan.new_links:
        insert_rows(L.__table__, [{"pupil_record_id": p.id, "representative_record_id": r.id,
                                        "rank": rank} for p, r, rank in plan.new_links])
    _bulk_update(L, [{"id": link_id, "rank": rank} for link_id, rank in plan.rank_updates])
    for chunk in chunks([link_id for link_id, _r, _p in plan.removed_links]):
        db.session.execute(delete(L).where(L.id.in_(chunk)),
                           execution_options={"synchronize_session": False})
    merged = merged_accounts([r.account_id for r in plan.reps.values() if r.account_id] +
                             [r.account_id for _l, r, _p in plan.removed_links if r.account_id])
    removed = {(merged.get(r.account_id, r.account_id), p.account_id)
               for _l, r, p in plan.removed_links if r.account_id and p.account_id}
    for chunk in chunks(sorted(removed)):
        db.session.execute(delete(GuardianLink).where(
            tuple_(GuardianLink.guardian_id, GuardianLink.pupil_id).in_(chunk)),
            execution_options={"synchronize_session": False})
    pairs = [(p, r) for p, r, _rank in plan.new_links] + list(plan.kept_links)
    # A family that said "je ne suis pas le représentant légal de cet élève" (J4) is not
    # linked again by a later import of the same school data.
    D = DeclinedGuardianLink
    declined = set(load_chunked(lambda c: select(D.representative_record_id, D.pupil_record_id)
                         .where(D.pupil_record_id.in_(c)),
                         sorted({p.id for p, _r in pairs if p.id})))
    wanted = {(merged.get(r.account_id, r.account_id), p.account_id) for p, r in pairs
              if (r.id, p.id) not in declined}
    # An account created by this import has no links yet: only older ones are looked up.
    fresh = {p.account_id for p in plan.pupils if p.account_id != p.old_account_id}
    pupil_accounts = sorted({p for _g, p in wanted if p and p not in fresh})
    existing = {(g, p) for g, p in load_chunked(
        lambda c: select(GuardianLink.guardian_id, GuardianLink.pupil_id)
        .where(GuardianLink.pupil_id.in_(c)), pupil_accounts)}
    missing = [{"guardian_id": g, "pupil_id": p} for g, p in sorted(wanted - existing)
               if g and p]
    if missing:
        insert_rows(GuardianLink.__table__, missing)
