"""The life of a school-issued account that is never activated [seed 002].

One pass (`idp lifecycle run`, and every WORKER_LIFECYCLE_MINUTES inside `idp worker`):
- a reminder email ACTIVATION_REMINDER_DAYS before the deadline, where an email is known;
- at the deadline (issue + ACTIVATION_WINDOW_DAYS) the account is deactivated: sign-in
  shows the "contact your school" message, its sessions end;
- DELETE_UNACTIVATED_DAYS after issue it is deleted: its personal data is erased and the
  row stays as a tombstone (state `deleted`, identifier `deleted-<public id>`), so the
  opaque id given to relying parties is never reused; the school records stay and lose
  their link to it; earlier audit lines naming it are pseudonymised.

Every change writes an audit event. The pass is idempotent (each step only picks what is
still to do) and set-based (chunks of ids), so a million accounts is a few hundred
statements. `now` is a parameter so tests move time instead of sleeping.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, insert, or_, select, text, update

from .db import db
from .local_time import paris
from .models import (Account, AccountProfile, AccountState, AuditEvent, GuardianLink,
                     OneTimeToken, OutboxMessage, PupilRecord, RefreshToken, RepresentativeRecord,
                     utcnow)
from .notify.delivery import purge_old_messages
from .notify.links import external_url
from .notify.outbox import render_email
from .roster.credentials import locked_password_hash

CHUNK = 2000
WAITING = (AccountState.provisional, AccountState.pending_email)
_LOCK = 4_240_002


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _locked() -> bool:
    """PostgreSQL: only one pass at a time (held until commit); SQLite has one writer."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK}))


def _audit(now: datetime, action: str, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(AuditEvent), [
            {"at": now, "action": action, "actor": "lifecycle", **row} for row in rows])


def _remind(now: datetime, days: int) -> int:
    rows = db.session.execute(
        select(Account.id, Account.identifier, Account.email, Account.first_name,
               Account.state, Account.activation_deadline, Account.locale, Account.profile)
        .where(Account.state.in_(WAITING), Account.activation_deadline > now,
               Account.activation_deadline <= now + timedelta(days=days),
               Account.reminder_sent_at.is_(None), Account.email.is_not(None))
        .order_by(Account.id)).all()
    sign_in = external_url("login.form")
    count = 0
    for chunk in _chunks(rows):
        messages = []
        for r in chunk:
            context = {"identifier": r.identifier, "first_name": r.first_name,
                       "deadline": paris(r.activation_deadline, "%d/%m/%Y"),
                       "pending_email": r.state == AccountState.pending_email,
                       "tu": r.profile == AccountProfile.pupil,
                       "sign_in_url": sign_in}
            messages.append({"recipient": r.email, "status": "pending", "attempts": 0,
                             "next_attempt_at": now, "created_at": now,
                             **render_email("activation_reminder", context, r.locale or "fr")})
        db.session.execute(insert(OutboxMessage), messages)
        db.session.execute(update(Account).where(Account.id.in_([r.id for r in chunk]))
                           .values(reminder_sent_at=now),
                           execution_options={"synchronize_session": False})
        _audit(now, "activation_reminder_queued",
               [{"target": r.identifier, "details": {}} for r in chunk])
        count += len(chunk)
    return count


def _deactivate(now: datetime) -> int:
    rows = db.session.execute(
        select(Account.id, Account.identifier)
        .where(Account.state.in_(WAITING), Account.activation_deadline <= now)
        .order_by(Account.id)).all()
    for chunk in _chunks(rows):
        ids = [r.id for r in chunk]
        db.session.execute(
            update(Account).where(Account.id.in_(ids), Account.state.in_(WAITING))
            .values(state=AccountState.deactivated, deactivated_at=now,
                    session_epoch=Account.session_epoch + 1),
            execution_options={"synchronize_session": False})
        db.session.execute(update(OneTimeToken).where(
            OneTimeToken.account_id.in_(ids), OneTimeToken.used_at.is_(None),
            OneTimeToken.revoked_at.is_(None)).values(revoked_at=now),
            execution_options={"synchronize_session": False})
        _audit(now, "account_deactivated",
               [{"target": r.identifier, "details": {"reason": "not_activated"}} for r in chunk])
    return len(rows)


def _delete(now: datetime, days: int) -> int:
    rows = db.session.execute(
        select(Account.id, Account.public_id, Account.email, Account.issued_at)
        .where(Account.state == AccountState.deactivated, Account.activated_at.is_(None),
               Account.issued_at <= now - timedelta(days=days))
        .order_by(Account.id)).all()
    quiet = {"synchronize_session": False}
    for chunk in _chunks(rows):
        ids = [r.id for r in chunk]
        emails = sorted({r.email for r in chunk if r.email})
        db.session.execute(delete(GuardianLink).where(or_(GuardianLink.guardian_id.in_(ids),
                                                          GuardianLink.pupil_id.in_(ids))),
                           execution_options=quiet)
        db.session.execute(delete(OneTimeToken).where(OneTimeToken.account_id.in_(ids)),
                           execution_options=quiet)
        db.session.execute(delete(RefreshToken).where(RefreshToken.account_id.in_(ids)),
                           execution_options=quiet)
        if emails:
            db.session.execute(delete(OutboxMessage).where(OutboxMessage.recipient.in_(emails)),
                               execution_options=quiet)
        for model in (PupilRecord, RepresentativeRecord):
            db.session.execute(update(model).where(model.account_id.in_(ids))
                               .values(account_id=None), execution_options=quiet)
        # Earlier audit lines name the person by identifier: keep the events, not the name.
        for column in ("actor", "target"):
            col = getattr(AuditEvent, column)
            db.session.execute(
                update(AuditEvent).where(and_(col == Account.identifier, Account.id.in_(ids)))
                .values({column: "deleted:" + Account.public_id}), execution_options=quiet)
        db.session.execute(
            update(Account).where(Account.id.in_(ids)).values(
                state=AccountState.deleted, identifier="deleted-" + Account.public_id,
                identifier_stem=None, first_name="", last_name="", email=None, phone=None,
                email_verified=False, birth_date=None, class_name=None,
                password_hash=locked_password_hash(), provisional_password_hash=None,
                session_epoch=Account.session_epoch + 1),
            execution_options=quiet)
        _audit(now, "account_deleted", [
            {"target": "deleted:" + r.public_id,
             "details": {"reason": "not_activated",
                         "issued": r.issued_at.date().isoformat() if r.issued_at else None}}
            for r in chunk])
    return len(rows)


def run_lifecycle(now: datetime | None = None) -> dict:
    """One pass (flushes, never commits). Returns counts of what it did."""
    config = current_app.config
    now = now or utcnow()
    if not _locked():
        return {"skipped": "another lifecycle pass is running"}
    summary = {
        "at": now.isoformat(),
        "reminded": _remind(now, int(config["ACTIVATION_REMINDER_DAYS"])),
        "deactivated": _deactivate(now),
        "deleted": _delete(now, int(config["DELETE_UNACTIVATED_DAYS"])),
    }
    summary["tokens_purged"] = db.session.execute(
        delete(OneTimeToken).where(OneTimeToken.expires_at < now - timedelta(days=7)),
        execution_options={"synchronize_session": False}).rowcount
    summary["messages_purged"] = purge_old_messages(now)
    db.session.expire_all()
    return summary
