from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.session import end_session
from ...signin.steps import step_done, step_page
from . import service
from ..signup.strength import RULES, evaluate
from .forms import EmailForm, FirstConnectionForm, PupilFirstConnectionForm, ResendForm

bp = Blueprint("activation", __name__)

register_step(Step("activation", "activation.start", service.is_needed, bound=False))
allow("activation.start", "activation.resend", "activation.change_email",
      "activation.confirm")


def _deactivated():
    end_session()
    return render_template("login/deactivated.html"), 403


def _pending_page(account, email_form=None, status=200, not_yet=False):
    """`not_yet`: "J'ai cliqué sur le lien : continuer" while the link is still unused
    (the page says so instead of coming back unchanged)."""
    return render_template("activation/pending.html", account=account,
                           resend_form=ResendForm(), email_form=email_form or EmailForm(),
                           deadline=service.deadline_of(account), not_yet=not_yet), status


def _form_page(account, form, status=200):
    # The rules the typed password meets, ticked (as on J4), before it is cleared: a
    # password is never sent back.
    evaluation = evaluate(form.password.data if form.is_submitted() else "",
                          refused=bool(form.password.errors))
    form.password.data = form.password_confirm.data = ""
    pupil = service.is_pupil(account)
    return render_template("activation/form.html", form=form, account=account, pupil=pupil,
                           rules=RULES, evaluation=evaluation,
                           ask_birth_date="birth_date" in form._fields,
                           guardian_reset=account.guardian_reset_at is not None,
                           deadline=service.deadline_of(account),
                           max_failures=service.max_failures()), status


@bp.route("/premiere-connexion", methods=["GET", "POST"])
@step_page("activation")
def start(ctx):
    """The step: the first-connection form, or the "check your mailbox" page."""
    account = ctx.account
    if service.expire_if_late(account):
        return _deactivated()
    if account.state.value == "pending_email":
        return _pending_page(account, not_yet="continuer" in request.args)
    if service.is_blocked(account):
        return render_template("activation/blocked.html"), 403
    form_class = PupilFirstConnectionForm if service.is_pupil(account) else FirstConnectionForm
    kept = service.kept_password_hash(account)
    # A representative's temporary password ("Mes enfants"): they vouched for the pupil,
    # so no birth date is asked.
    ask_birth_date = account.guardian_reset_at is None and service.known_birth_dates(account)
    form = form_class(
        password_kept=kept is not None,
        policy=partial(service.password_problems, account),
        check_birth_date=partial(service.check_birth_date, account)
        if ask_birth_date else None,  # nothing to check it against
        failures_left=lambda: service.max_failures() - account.birth_date_failures)
    if not form.is_submitted():
        if not form.email.data and account.email:
            form.email.data = account.email  # from the school record: to confirm
        return _form_page(account, form)
    valid = form.validate_on_submit()
    if service.is_blocked(account):  # that wrong birth date was the last one allowed
        return render_template("activation/blocked.html"), 403
    email = form.email.data if not form.email.errors else None
    if not valid:
        if form.password_accepted():  # only other fields were wrong: not typed again
            service.keep_password(account, form.password.data)
            form.password_kept = True
        return _form_page(account, form, 400)
    if service.is_guardian_reset(account):
        linked = service.complete_guardian_reset(
            account, form.password.data, email if email else None,
            password_hash=None if form.password.data else kept)
        session["epoch"] = account.session_epoch
        flash(_("Ton nouveau mot de passe est enregistré.") + (" " + _(
            "Un lien de confirmation a été envoyé à ta nouvelle adresse.") if linked else ""),
            "success")
        return step_done()
    service.complete_first_connection(account, form.password.data,
                                      email if email else None,
                                      password_hash=None if form.password.data else kept)
    session["epoch"] = account.session_epoch  # this session goes on
    if email:
        return redirect(url_for("activation.start"))
    flash(_("Ton compte est activé.") if service.is_pupil(account)
          else _("Votre compte est activé."), "success")
    return step_done()


@bp.post("/premiere-connexion/renvoyer")
@step_page("activation")
def resend(ctx):
    account = ctx.account
    if account.state.value != "pending_email" or not ResendForm().validate_on_submit():
        return redirect(url_for("activation.start"))
    if service.expire_if_late(account):
        return _deactivated()
    if service.may_resend(account):
        service.send_activation_email(account)
        flash(_("Un nouveau message a été envoyé à %(email)s.", email=account.email), "success")
    else:
        flash(_("Un message vient d'être envoyé : patientez une minute avant d'en demander "
                "un autre."), "info")
    return redirect(url_for("activation.start"))


@bp.post("/premiere-connexion/adresse")
@step_page("activation")
def change_email(ctx):
    account = ctx.account
    if account.state.value != "pending_email":
        return redirect(url_for("activation.start"))
    form = EmailForm()
    if not form.validate_on_submit():
        return _pending_page(account, form, 400)
    service.change_pending_email(account, form.email.data)
    flash(_("Un message a été envoyé à %(email)s.", email=account.email), "success")
    return redirect(url_for("activation.start"))


@bp.get("/activation/<token>")
def confirm(token: str):
    """The emailed link: 'Votre compte a été validé', or what went wrong and what to do."""
    outcome, account = service.confirm(token)
    Outcome = service.ConfirmOutcome
    if outcome is Outcome.activated:
        return render_template("activation/confirmed.html", already=False)
    if outcome is Outcome.already_active:
        return render_template("activation/confirmed.html", already=True)
    if outcome is Outcome.deactivated:
        return render_template("login/deactivated.html"), 403
    return render_template("activation/link_error.html", reason=outcome.value), \
        410 if outcome is Outcome.expired else 400
