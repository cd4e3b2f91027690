"""The `password_change` sign-in step: a family forced by a campaign (service.py) says
why ("Pour protéger votre compte…", "tu" for a pupil) and chooses a new password before
anything else is issued; the other sessions and refresh tokens of the account then end.

The login step marks the session (`remember_demand`) when the account signing in has a
demand: the plan's check then costs nothing on every other request.
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
    return ctx.account is not None and session.get(SESSION_KEY) == ctx.account.id


register_step(Step("password_change", "password_change.form", _is_needed, bound=False))
allow("password_change.form")


def remember_demand(account) -> None:
    """At sign-in: a forced account goes through this step before anything else."""
    if service.is_forced(account):
        session[SESSION_KEY] = account.id


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
        session.pop(SESSION_KEY, None)
        return step_done()
    change.password.data = change.password_confirm.data = ""
    return render_template("password_change/form.html", form=change, informal=informal,
                           identifier=account.identifier), 400 if change.errors else 200
