""""Ce n'était pas moi", from the new-device notice: a confirmation page (opening the
link spends nothing: mail scanners fetch links), then every session ends and the family
chooses a new password."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from ...audit import record
from ...db import db
from ...models import OneTimeToken, utcnow
from ...security.onetime import LinkTokenError, consume_link_token, hash_token, issue_link_token
from ...signin.account_sessions import end_account_sessions
from ...signin.gate import allow
from ..account.credentials import RESET_PURPOSE
from ..recovery.service import reset_link_lifetime
from . import service

bp = Blueprint("new_device", __name__)
allow("new_device.not_me")


def _usable(token: str):
    """The account of a live link, or None (unknown, used, expired: one page for all)."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(select(OneTimeToken).where(
        OneTimeToken.token_hash == hash_token(token),
        OneTimeToken.purpose == service.PURPOSE))
    if row is None or row.used_at is not None or row.revoked_at is not None \
            or row.expires_at <= utcnow():
        return None
    return service.account_for(row)


@bp.route("/connexion/ce-netait-pas-moi/<token>", methods=["GET", "POST"])
def not_me(token: str):
    account = _usable(token)
    if account is None:
        return render_template("new_device/link_error.html"), 400
    form = FlaskForm()
    if not form.validate_on_submit():
        return render_template("new_device/confirm.html", form=form,
                               tu=account.profile.value == "pupil")  # a pupil reads "tu"
    try:
        consume_link_token(token, service.PURPOSE)
    except LinkTokenError:
        return render_template("new_device/link_error.html"), 400
    end_account_sessions(account, reason="new_device_reported")  # and every refresh token
    service.revoke_devices(account)   # and every device cookie, the intruder's too
    record("new_device_reported", actor=account.identifier)
    reset = issue_link_token(account.id, RESET_PURPOSE, reset_link_lifetime())
    return redirect(url_for("recovery.password_link", token=reset))
