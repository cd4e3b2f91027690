"""Where every step hands back to: resumes the pending request or the page asked for."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, session, url_for

from .pending import PendingAuthorization
from .plan import current_context

bp = Blueprint("signin", __name__)


def safe_local_path(target: str | None) -> str | None:
    """Only same-site absolute paths are followed (never //host or a scheme)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


@bp.get("/continue")
def resume():
    """Reached through the gate, so every step is done: fulfil or go where asked."""
    pending = current_context().pending
    if pending is not None:
        # The gate ran for /continue: fulfil in this request rather than redirect again.
        return current_app.view_functions[pending.fulfil_endpoint]()
    if PendingAuthorization.had_expired():
        session.pop("pending_id", None)
        return render_template("errors/expired.html"), 400
    return redirect(safe_local_path(session.pop("next", None)) or url_for("home.index"))
