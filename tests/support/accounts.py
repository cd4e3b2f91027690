"""Helpers for the J6 tests (recovery, "Mon compte", second factor): read and change an
account row, run the delivery worker once, find a link in the last email."""
from __future__ import annotations

import re

from sqlalchemy import select

from idp.db import db
from idp.models import Account, AuditEvent


def account_row(app, account_id: int) -> Account:
    with app.app_context():
        row = db.session.get(Account, account_id)
        db.session.expunge(row)
        return row


def update_account(app, account_id: int, **fields) -> None:
    with app.app_context():
        row = db.session.get(Account, account_id)
        for name, value in fields.items():
            setattr(row, name, value)
        db.session.commit()


def deliver(app) -> None:
    """Run the outbox worker once (as `idp worker --once` would); nothing may fail."""
    from idp.notify.delivery import deliver_due

    with app.app_context():
        report = deliver_due()
        assert report.failed == 0 and not report.errors, report.errors


def link_in(smtp, message, path_prefix: str) -> str:
    """The local path of the first link under `path_prefix` in `message`'s text."""
    for link in smtp.links(message):
        path = re.sub(r"^https?://[^/]+", "", link)
        if path.startswith(path_prefix):
            return path
    raise AssertionError(f"no {path_prefix} link in: {smtp.text_of(message)}")


def mails_to(smtp, address: str) -> list:
    return [m for m in smtp.messages if address in str(m["To"])]


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


_CSRF = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+"')


def comparable(html: str, *words: str) -> str:
    """A page's text without its CSRF token and with `words` (what was typed) blanked,
    to show that two answers are the same."""
    html = _CSRF.sub(r'\1-"', html)
    for word in words:
        html = html.replace(word, "…")
    return html
