"""Queue messages in the outbox, rendered now (so the worker needs no app state)."""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale

from ..db import db
from ..models import OutboxMessage


def _render(name: str, context: dict, locale: str) -> str:
    with force_locale(locale):
        template = current_app.jinja_env.get_template(name)
        return template.render({**_base_context(), **context})


def _base_context() -> dict:
    """What every message may read. `tu`: the recipient is a pupil (the account's owner),
    addressed "tu"; the callers that write to one say so, every other message says "vous"."""
    return {"base_url": current_app.config["BASE_URL"], "tu": False}


def _exists(name: str) -> bool:
    try:
        current_app.jinja_env.get_template(name)
    except Exception:  # TemplateNotFound: the HTML part is optional
        return False
    return True


def render_email(template: str, context: dict, locale: str = "fr") -> dict:
    """The columns of an email OutboxMessage (for callers that insert many at once)."""
    subject = " ".join(_render(f"emails/{template}.subject.txt", context, locale).split())
    text = _render(f"emails/{template}.txt", context, locale)
    html_name = f"emails/{template}.html"
    html = _render(html_name, context, locale) if _exists(html_name) else None
    return {"channel": "email", "template": template, "locale": locale, "subject": subject,
            "text": text, "html": html}


def queue_email(*, to: str, template: str, context: dict, locale: str = "fr") -> OutboxMessage:
    """Render templates/emails/<template>.subject.txt, .txt and .html (optional) and add
    the message to the outbox in the current transaction (flushed, not committed)."""
    message = OutboxMessage(recipient=to, **render_email(template, context, locale))
    db.session.add(message)
    db.session.flush()
    return message


def queue_sms(*, to: str, template: str, context: dict, locale: str = "fr") -> OutboxMessage:
    """Render templates/sms/<template>.txt and add it to the outbox (same transaction)."""
    text = _render(f"sms/{template}.txt", context, locale).strip()
    message = OutboxMessage(channel="sms", recipient=to, template=template, locale=locale,
                            subject="", text=text, html=None)
    db.session.add(message)
    db.session.flush()
    return message
