"""The console's home: what this role can do, and the staff member's schools."""
from __future__ import annotations

from flask import g, render_template

from ...extensions import admission as admission_of_this_process
from ...store import StoreUnavailable
from . import guard
from .blueprint import bp


@bp.get("/")
def home():
    staff = g.staff
    scope = guard.school_ids_in_scope()
    return render_template("admin/home.html", staff=staff,
                           schools=staff.schools if scope is not None else None,
                           waiting_room=waiting_room() if scope is None else None)


def waiting_room() -> dict:
    """The sign-in waiting room (security/admission.py) as the operators see it: the
    queue of every node, the last hours' admitted and turned-away sign-ins, this
    process's settings. The store down: the figures say so, the page still answers."""
    admission = admission_of_this_process()
    view = {"enabled": admission.enabled, "concurrency": admission.concurrency,
            "waiters": admission.waiters, "wait_seconds": admission.wait_seconds,
            "available": True}
    try:
        view["length"] = admission.queue_length()
        view["hours"] = admission.hourly_counts(hours=3)  # shown in Paris hours (|paris)
    except StoreUnavailable:
        view["available"] = False
    return view


@bp.app_context_processor
def console_globals():
    """The role and write permission for the console layout (menus, hidden forms)."""
    staff = g.get("staff")
    return {"console_staff": staff, "console_can_write": guard.can_write()}
