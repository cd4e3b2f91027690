"""Who may use the console, checked once per request before any console view runs.

A console session lives under its own keys ("staff", "staff_pending") of the server-side
session and never beside a family's SSO session. It exists only after password *and*
TOTP; it ends when idle for STAFF_IDLE_MINUTES (shorter than families'), after
STAFF_SESSION_HOURS, when the staff account is disabled or its epoch bumped.

Roles: operators do everything; auditors read what operators read and every POST of
theirs is refused; school staff reach only the school pages, and only for their schools
(`school_or_404`): another school's id in a URL or a form answers 404, as if it did not
exist.
"""
from __future__ import annotations

import time
from functools import wraps

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ...db import db
from ...errors import error_page
from ...models import School, StaffAccount, StaffRole

STAFF = "staff"
PENDING = "staff_pending"
ENROL = "staff_enrol"
NEXT = "staff_next"
PENDING_SECONDS = 300
# Endpoints reached without a console session (they check what they need themselves).
PUBLIC = {"admin.sign_in", "admin.second_factor", "admin.enrol", "admin.sign_out"}


def _idle_seconds() -> int:
    return int(current_app.config["STAFF_IDLE_MINUTES"]) * 60


def _absolute_seconds() -> int:
    return int(current_app.config["STAFF_SESSION_HOURS"]) * 3600


def drop_console_keys() -> None:
    for key in (STAFF, PENDING, ENROL):
        session.pop(key, None)


def open_console_session(staff: StaffAccount) -> None:
    """After password and TOTP: a new session id, only console keys (and the locale)."""
    kept = {k: session[k] for k in ("locale", NEXT) if k in session}
    session.clear()
    session.regenerate()
    session.update(kept)
    now = time.time()
    session[STAFF] = {"id": staff.id, "epoch": staff.session_epoch, "since": now, "seen": now}


def pending_staff() -> StaffAccount | None:
    """The staff member between password and code (five minutes at most)."""
    pending = session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    staff = db.session.get(StaffAccount, pending["id"])
    if staff is None or not staff.enabled or staff.session_epoch != pending.get("epoch"):
        return None
    return staff


def current_staff() -> StaffAccount | None:
    """The signed-in staff member (password + TOTP done, session alive), or None."""
    if "staff" in g:
        return g.staff
    staff, data = None, session.get(STAFF)
    if data:
        now = time.time()
        row = db.session.get(StaffAccount, data.get("id"))
        alive = (row is not None and row.enabled and row.session_epoch == data.get("epoch")
                 and row.totp_secret_sealed is not None
                 and now - data.get("seen", 0) <= _idle_seconds()
                 and now - data.get("since", 0) <= _absolute_seconds()
                 and not session.get("account_id"))  # never beside a family session
        if alive:
            staff = row
            if now - data["seen"] > 15:  # sliding idle timeout, one store write per 15 s
                session[STAFF] = {**data, "seen": now}
        else:
            drop_console_keys()
            flash(_("Votre session de la console a expiré : reconnectez-vous."), "info")
    g.staff = staff
    return staff


def check_request():
    """before_request of the console blueprint."""
    if request.endpoint in PUBLIC:
        return None
    staff = current_staff()
    if staff is None:
        if request.method == "GET":
            session[NEXT] = request.full_path.rstrip("?")
        return redirect(url_for("admin.sign_in"))
    if staff.role is StaffRole.auditor and request.method not in ("GET", "HEAD"):
        return forbidden(_("Votre rôle d'auditeur permet de consulter, pas de modifier."))
    return None


def forbidden(message: str | None = None):
    return error_page(403, _("Accès refusé"),
                      message or _("Cette page est réservée à un autre rôle de la console."))


def roles(*allowed: StaffRole):
    """Only these roles reach the view (others: 403; the page exists for some)."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.staff.role not in allowed:
                return forbidden()
            return view(*args, **kwargs)
        return wrapper
    return decorator


READERS = (StaffRole.operator, StaffRole.auditor)


def can_write() -> bool:
    staff = g.get("staff")
    return staff is not None and staff.role is not StaffRole.auditor


def school_ids_in_scope() -> list[int] | None:
    """None for operators and auditors (every school); the assigned ids for school staff."""
    staff = g.staff
    if staff.role is StaffRole.school_staff:
        return [s.id for s in staff.schools]
    return None


def school_or_404(uai: str | None) -> School:
    """The school named in a URL or form, if this staff member may see it; else 404."""
    uai = (uai or "").strip().upper()
    scope = school_ids_in_scope()
    if scope is not None:
        school = next((s for s in g.staff.schools if s.uai == uai), None)
    else:
        school = db.session.scalar(select(School).where(School.uai == uai)) if uai else None
    if school is None:
        abort(404)
    return school
