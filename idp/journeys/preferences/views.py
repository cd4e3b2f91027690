from __future__ import annotations

from flask import Blueprint, render_template, request

from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.steps import binding, step_done, step_page
from . import email_change, service
from ...models import AccountProfile
from .forms import ConfirmEmailForm, PreferencesForm, PupilPreferencesForm

bp = Blueprint("preferences", __name__)
register_step(Step("preferences", "preferences.check", service.is_needed))
allow("preferences.check", "preferences.confirm_email")


@bp.route("/preferences", methods=["GET", "POST"])
@step_page("preferences")
def check(ctx):
    """Vérifiez vos informations: the record read-only, the email, the opt-ins."""
    account = ctx.account
    prefs = service.preferences_of(account)
    tu = account.profile == AccountProfile.pupil  # a pupil's page says "tu"
    form = (PupilPreferencesForm if tu else PreferencesForm)()
    # Answered before: the step is a reminder (a parent without a verified address), which
    # "Continuer" passes without sending anything (service.is_needed says when it comes).
    reminder = prefs is not None
    waiting = email_change.pending(account)
    if form.validate_on_submit():
        action = request.form.get("action")
        service.save(account, notify_region=form.notify_region.data,
                     notify_department=form.notify_department.data,
                     notify_academy=form.notify_academy.data)
        if not (reminder and action == "continue") and service.wants_email_change(
                account, form.email.data, waiting, resend=action == "resend"):
            email_change.start(account, form.email.data)
            # Said on a page of its own: on the way to an RP a flash would be seen later.
            return render_template("preferences/link_sent.html", email=form.email.data,
                                   pending=ctx.pending, tu=tu)
        return step_done()
    # A link that ran out unopened: its address comes back typed, and the page says so.
    lapsed = None if waiting else email_change.lapsed(account)
    if not form.is_submitted():
        # An address typed at an earlier visit, waiting for its link, comes back typed.
        form.email.data = (waiting or lapsed or {}).get("email") or account.email
        if prefs is not None:
            form.notify_region.data = prefs.notify_region
            form.notify_department.data = prefs.notify_department
            form.notify_academy.data = prefs.notify_academy
    return render_template("preferences/check.html", form=form, pending=ctx.pending,
                           record=service.school_record(account), account=account,
                           waiting=waiting, lapsed=lapsed, reminder=reminder,
                           flow=binding(ctx), tu=tu), \
        400 if form.errors else 200


@bp.route("/preferences/email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """The link from the email: a button confirms (a POST, so link scanners do not use
    the token); reachable without signing in (often opened on another device)."""
    form = ConfirmEmailForm()
    if not form.validate_on_submit():
        return render_template("preferences/confirm_email.html", form=form)
    try:
        account = email_change.confirm(token)
    except email_change.EmailChangeError as exc:
        return render_template("preferences/email_link_error.html", reason=exc.reason), 400
    return render_template("preferences/email_confirmed.html", email=account.email,
                           tu=account.profile == AccountProfile.pupil)
