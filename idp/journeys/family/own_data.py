"""The family's own data (RGPD): "Télécharger mes données" and closing a self-registered
account.

The download is one JSON document: the account, its guardian links, consents, charter
acceptances, contact preferences, open sessions and the audit events about it (events
never hold a password, code or token: audit.py).

Closing is for accounts the family made itself (J4 "Je n'ai pas de compte", FranceConnect):
an account the school issued (a letter) belongs to the school's records and is closed by
the school. Closing ends every session and refresh token (relying parties told by
back-channel logout), keeps the school's records (their link to the account is emptied, so
the family may register again), erases the personal data and leaves a tombstone (state
`deleted`, identifier `deleted-<public id>`, as the lifecycle does for never-activated
accounts): the stable public id stays, so a relying party never sees it reused. The audit
trail keeps the event, not the name: earlier lines naming the account are rewritten to
`deleted:<public id>`.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, or_, select, update

from ...audit import record
from ...db import db
from ...models import (Account, AccountProfile, AccountState, AuditEvent, CharterAcceptance,
                       Consent, ContactPreferences, DeclinedGuardianLink,
                       FranceConnectLink, GuardianLink,
                       OneTimeToken, PupilRecord, RecoveryCode, RefreshToken,
                       RepresentativeRecord, SecondFactor, utcnow)
from ...roster.credentials import locked_password_hash
from ...signin.account_sessions import end_account_sessions
from ..home.sessions import open_sessions

AUDIT_LIMIT = 5000  # the most recent events about the account


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export(account: Account) -> dict:
    """Everything the IdP holds about the account, as JSON-ready data."""
    school = account.school
    pupils = db.session.execute(
        select(Account.identifier, Account.first_name, Account.last_name, Account.class_name)
        .join(GuardianLink, GuardianLink.pupil_id == Account.id)
        .where(GuardianLink.guardian_id == account.id).order_by(Account.first_name)).all()
    guardians = db.session.execute(
        select(Account.first_name, Account.last_name)
        .join(GuardianLink, GuardianLink.guardian_id == Account.id)
        .where(GuardianLink.pupil_id == account.id).order_by(Account.last_name)).all()
    consents = db.session.scalars(select(Consent).where(Consent.account_id == account.id)
                                  .order_by(Consent.granted_at)).all()
    charters = db.session.scalars(select(CharterAcceptance).where(
        CharterAcceptance.account_id == account.id).order_by(CharterAcceptance.accepted_at)).all()
    preferences = db.session.get(ContactPreferences, account.id)
    events = db.session.scalars(
        select(AuditEvent).where(or_(AuditEvent.actor == account.identifier,
                                     AuditEvent.target == account.identifier))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(AUDIT_LIMIT)).all()
    return {
        "generated_at": _iso(utcnow()),
        "account": {
            "identifier": account.identifier, "public_id": account.public_id,
            "profile": account.profile.value, "state": account.state.value,
            "first_name": account.first_name, "last_name": account.last_name,
            "email": account.email, "email_verified": account.email_verified,
            "phone": account.phone, "birth_date": _iso(account.birth_date),
            "academy": account.academy_code, "class_name": account.class_name,
            "school": {"uai": school.uai, "name": school.name} if school else None,
            "locale": account.locale, "created_at": _iso(account.created_at),
            "issued_at": _iso(account.issued_at), "activated_at": _iso(account.activated_at),
            "activation_deadline": _iso(account.activation_deadline),
        },
        "links": {
            "pupils": [{"identifier": p.identifier, "first_name": p.first_name,
                        "last_name": p.last_name, "class_name": p.class_name} for p in pupils],
            "guardians": [{"first_name": g.first_name, "last_name": g.last_name}
                          for g in guardians],
        },
        "consents": [{"relying_party": c.rp_key, "claims": c.claims,
                      "granted_at": _iso(c.granted_at), "withdrawn_at": _iso(c.withdrawn_at)}
                     for c in consents],
        "charter_acceptances": [{"audience": a.charter.audience, "version": a.charter.version,
                                 "title": a.charter.title, "accepted_at": _iso(a.accepted_at)}
                                for a in charters],
        "contact_preferences": {
            "notify_region": preferences.notify_region,
            "notify_department": preferences.notify_department,
            "notify_academy": preferences.notify_academy,
            "answered_at": _iso(preferences.asked_at)} if preferences else None,
        "sessions": [{"started_at": _iso(datetime.fromtimestamp(s["started"], timezone.utc)),
                      "device": s["device"], "current": s["current"]}
                     for s in open_sessions(account)],
        "audit_events": [{"at": _iso(e.at), "action": e.action, "actor": e.actor,
                          "target": e.target, "ip": e.ip, "details": e.details}
                         for e in events],
    }


def may_close(account: Account) -> bool:
    """Only a representative's account the family made itself (no school letter)."""
    return account.profile == AccountProfile.parent and account.issued_at is None


def close(account: Account) -> str:
    """Close the account (see module doc); flushes. The caller ends this browser's session
    (end_session) after. Returns the tombstone's audit name."""
    tombstone = retire(account)
    record("account_closed", target=tombstone, reason="closed_by_family")
    return tombstone


def retire(account: Account, merged_into: Account | None = None) -> str:
    """The tombstone (see module doc), also for the account a merge closes
    (`merged_into`: the kept account, named on the tombstone). Flushes; returns the
    tombstone's audit name."""
    end_account_sessions(account, reason="account_retired")  # RPs told, tokens revoked
    quiet = {"synchronize_session": False}
    ids = [account.id]
    tombstone = "deleted:" + account.public_id
    db.session.execute(delete(GuardianLink).where(or_(GuardianLink.guardian_id.in_(ids),
                                                      GuardianLink.pupil_id.in_(ids))),
                       execution_options=quiet)
    for model in (OneTimeToken, RefreshToken, Consent, CharterAcceptance, ContactPreferences,
                  RecoveryCode, SecondFactor, FranceConnectLink):
        db.session.execute(delete(model).where(model.account_id.in_(ids)),
                           execution_options=quiet)
    # The school's records stay; their link to this account is emptied, but for a merge:
    # they keep pointing at the tombstone, whose merged_into names the account that took
    # over (the school's dashboard and its next roster import follow it there).
    emptied = (PupilRecord,) if merged_into else (PupilRecord, RepresentativeRecord,
                                                  DeclinedGuardianLink)
    for model in emptied:
        db.session.execute(update(model).where(model.account_id.in_(ids))
                           .values(account_id=None), execution_options=quiet)
    for column in ("actor", "target"):
        col = getattr(AuditEvent, column)
        db.session.execute(update(AuditEvent).where(col == account.identifier)
                           .values({column: tombstone}), execution_options=quiet)
    account.state = AccountState.deleted
    account.identifier = "deleted-" + account.public_id
    account.identifier_stem = None
    account.first_name = account.last_name = ""
    account.email = account.phone = account.birth_date = account.class_name = None
    account.email_verified = False
    account.password_hash = locked_password_hash()
    account.provisional_password_hash = None
    account.deactivated_at = utcnow()
    if merged_into is not None:
        account.merged_into_id = merged_into.id
    db.session.flush()
    return tombstone
