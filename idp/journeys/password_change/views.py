"""The `password_change` sign-in step: a family forced by a campaign (service.py) says
why ("Pour protéger votre compte…", "tu" for a pupil) and chooses a new password before
anything else is issued; the other sessions and refresh tokens of the account then end.

Whether the signed-in account has a demand is looked up once per session (the first time
the plan asks, whatever way the family signed in: password or FranceConnect) and kept in
the session, which every sign-in starts afresh: the plan's check then costs nothing on the
session's other requests.
"""
from __future__ import annotations

from flask import Blueprint, render_template, session

from ...extensions import passwords
from ...models import AccountProfile
from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.steps import step_done, step_page
from ...security.passwords import policy_problems
from ..account import credentials
from ..activation.service import forbidden_words
from . import service
from .forms import forced_change_form

bp = Blueprint("password_change", __name__)
SESSION_KEY = "password_change_forced"


def _is_needed(ctx) -> bool:
    if ctx.account is None:
        return False
    forced = session.get(SESSION_KEY)
    if forced is None:  # the first look of this session
        forced = ctx.account.id if service.is_forced(ctx.account) else 0
        session[SESSION_KEY] = forced
    return forced == ctx.account.id


register_step(Step("password_change", "password_change.form", _is_needed, bound=False))
allow("password_change.form")


@bp.route("/connexion/nouveau-mot-de-passe", methods=["GET", "POST"])
@step_page("password_change")
def form(ctx):
    account = ctx.account
    informal = account.profile == AccountProfile.pupil
    change = forced_change_form(
        informal, is_current=lambda typed: passwords().verify(account.password_hash, typed),
        policy=lambda typed: [str(p) for p in policy_problems(
            typed, forbidden=forbidden_words(account), informal=informal)])
    if change.validate_on_submit():
        credentials.replace_password(account, change.password.data, reason="change")
        service.mark_done(account)
        session[SESSION_KEY] = 0
        return step_done()
    change.password.data = change.password_confirm.data = ""
    return render_template("password_change/form.html", form=change, informal=informal,
                           identifier=account.identifier), 400 if change.errors else 200
