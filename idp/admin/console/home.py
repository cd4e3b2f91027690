"""The console's home: what this role can do, and the staff member's schools."""
from __future__ import annotations

from flask import g, render_template

from . import guard
from .blueprint import bp


@bp.get("/")
def home():
    staff = g.staff
    scope = guard.school_ids_in_scope()
    return render_template("admin/home.html", staff=staff,
                           schools=staff.schools if scope is not None else None)


@bp.app_context_processor
def console_globals():
    """The role and write permission for the console layout (menus, hidden forms)."""
    staff = g.get("staff")
    return {"console_staff": staff, "console_can_write": guard.can_write()}
