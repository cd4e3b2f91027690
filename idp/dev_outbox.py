"""/dev/outbox: the messages the IdP would have sent, for a person trying it locally.

Registered only when DEBUG or DEV_OUTBOX is on (`make run` turns DEV_OUTBOX on); it is
public on purpose, so a family in the middle of a first connection can open its link.
A page of the app beside notify/ (which stays a library: queue, render, deliver).
"""
from __future__ import annotations

import re

from flask import Blueprint, Flask, abort, render_template
from markupsafe import Markup, escape
from sqlalchemy import select

from .db import db
from .models import OutboxMessage
from .signin.gate import allow

bp = Blueprint("dev", __name__, url_prefix="/dev")
URL = re.compile(r"https?://[^\s<>\"']+")


@bp.app_template_filter("linkify")
def linkify(text: str) -> Markup:
    """Escape a plain-text message and make its links clickable."""
    out, last = [], 0
    for match in URL.finditer(text or ""):
        out.append(escape(text[last:match.start()]))
        url = escape(match.group(0))
        out.append(Markup(f'<a href="{url}">{url}</a>'))
        last = match.end()
    out.append(escape((text or "")[last:]))
    return Markup("").join(out)


@bp.get("/outbox")
def outbox():
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(50)).all()
    return render_template("dev/outbox.html", messages=messages)


@bp.get("/outbox/<int:message_id>")
def outbox_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return render_template("dev/outbox.html", messages=[message], single=True)


def init_app(app: Flask) -> None:
    """The page, only when DEBUG or DEV_OUTBOX is on."""
    if app.config.get("DEBUG") or app.config.get("DEV_OUTBOX"):
        app.register_blueprint(bp)
        allow("dev.outbox", "dev.outbox_message")
