"""Contact and preferences: asked once per account (J5), and again as a reminder while a
parent has no verified email address (a family must be reachable for recovery): at a
sign-in, but not while a confirmation link could still be opened, and then with
"Continuer" to go on without a new link."""
from __future__ import annotations

from datetime import datetime

from flask import g

from ...audit import record
from ...db import db
from ...families import linked_pupils
from ...models import Account, AccountProfile, ContactPreferences, utcnow
from ...security.mobile_numbers import display
from ..standing import forget, standing
from . import email_change


def preferences_of(account: Account) -> ContactPreferences | None:
    """The account's saved answer (memoised for the request)."""
    memo = g.setdefault("contact_preferences", {})
    if account.id not in memo:
        memo[account.id] = db.session.get(ContactPreferences, account.id)
    return memo[account.id]


def is_needed(ctx) -> bool:
    if ctx.account is None:
        return False
    asked_at = standing(ctx.account, ctx.pending).preferences_asked_at
    if asked_at is None:
        return True
    if ctx.account.profile == AccountProfile.parent and not ctx.account.email_verified:
        return reminder_due(ctx.account, asked_at, ctx.auth_time)
    return False


def reminder_due(account: Account, asked_at: datetime, auth_time: float) -> bool:
    """A parent without a verified address is reminded once per sign-in, and not within a
    confirmation link's lifetime of the last answer ("Enregistrer", which sends the link,
    or "Continuer"), nor while a link sent since ("Mon compte") can still be opened."""
    if asked_at.timestamp() >= auth_time:
        return False  # already asked since this sign-in
    if asked_at > utcnow() - email_change.LINK_LIFETIME:
        return False
    return not email_change.link_waiting(account)


def school_record(account: Account) -> dict:
    """What the school holds, shown read-only ("D'où viennent ces informations ?")."""
    school = account.school
    return {
        "last_name": account.last_name, "first_name": account.first_name,
        "profile": account.profile.value, "identifier": account.identifier,
        "school": f"{school.name} ({school.uai})" if school else None,
        "class_name": account.class_name if account.profile == AccountProfile.pupil else None,
        "phone": display(account.phone) if account.phone else None,
        "pupils": [{"name": p.display_name, "class_name": p.class_name,
                    "school": p.school.name if p.school else None}
                   for p in linked_pupils(account)]
        if account.profile == AccountProfile.parent else [],
    }


def save(account: Account, *, notify_region: bool, notify_department: bool,
         notify_academy: bool) -> ContactPreferences:
    """Record the answer (the step is done for this sign-in)."""
    prefs = preferences_of(account)
    if prefs is None:
        prefs = ContactPreferences(account_id=account.id)
        db.session.add(prefs)
    prefs.notify_region = bool(notify_region)
    prefs.notify_department = bool(notify_department)
    prefs.notify_academy = bool(notify_academy)
    prefs.asked_at = utcnow()
    db.session.flush()
    g.pop("contact_preferences", None)
    forget()
    record("preferences_saved", actor=account.identifier,
           notify=[k for k, v in (("region", notify_region), ("department", notify_department),
                                  ("academy", notify_academy)) if v])
    return prefs


def wants_email_change(account: Account, new_email: str | None, waiting: dict | None = None,
                       resend: bool = False) -> bool:
    """A confirmation link is needed for a new address, or to verify the current one;
    not again for the address whose link can still be opened (`waiting`, as
    email_change.pending), unless the family asks for it (`resend`)."""
    if not new_email:
        return False
    typed = new_email.strip().lower()
    if account.email_verified and typed == (account.email or "").strip().lower():
        return False
    return resend or waiting is None or typed != waiting["email"].strip().lower()
