"""Where every step hands back to: resumes the pending request or the page asked for."""
from __future__ import annotations

from flask import Blueprint, redirect, session, url_for

from .engine import forget_expired, fulfil_pending
from .pending import expired_page
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
    if current_context().pending is not None:
        # The gate ran for /continue: answer in this request rather than redirect again.
        return fulfil_pending()
    if forget_expired():
        return expired_page()
    return redirect(safe_local_path(session.pop("next", None)) or url_for("home.index"))
