"""The `second_factor` sign-in step and the enrolment pages under /compte."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.steps import binding, step_done, step_page
from ..account import credentials, reauth
from ..account.service import addressed_as_tu
from ...signin.session import current_account
from . import service
from .forms import DisableForm, EnrolForm, RenewForm, VerifyForm

bp = Blueprint("second_factor", __name__)


@bp.context_processor
def _address():
    """`tu` for a signed-in pupil's pages (the sign-in step's account is not signed in
    yet: "vous", as the other sign-in pages)."""
    return {"tu": addressed_as_tu(current_account())}

WRONG_FIRST_CODE = _l("Code incorrect : la validation en deux étapes n'est pas activée. "
                      "Vérifiez que l'heure de votre téléphone est à jour et saisissez le "
                      "code affiché maintenant.")
register_step(Step("second_factor", "second_factor.verify", service.is_needed))
allow("second_factor.verify")

@bp.route("/connexion/verification", methods=["GET", "POST"])
@step_page("second_factor")
def verify(ctx):
    """After the password: the code from the app, or a recovery code. An account with no
    factor is here only because the service requires one (an RP's acr): it sets it up."""
    account = ctx.account
    if service.factor_of(account) is None:
        return _enrol_in_step(ctx)
    form = VerifyForm(check_code=lambda typed: service.check_code(account, typed))
    if form.validate_on_submit():
        service.mark_passed(account)
        if form.outcome is service.CodeCheck.recovery:
            flash(_("Code de secours accepté. Il vous en reste %(n)d : pensez à en "
                    "générer de nouveaux depuis Mon compte.",
                    n=service.remaining_codes(account)), "info")
        return step_done()
    form.code.data = ""
    return render_template("second_factor/verify.html", form=form, pending=ctx.pending,
                           flow=binding(ctx)), 400 if form.errors else 200


def _enrol_in_step(ctx):
    """Enrolment inside the step; the first right code passes it (confirm_enrolment),
    and the recovery codes page goes on to the service."""
    form = EnrolForm()
    if form.validate_on_submit():
        codes = service.confirm_enrolment(ctx.account, form.code.data)
        if codes is not None:
            return render_template("second_factor/codes.html", codes=codes, enabled=True,
                                   resume=True)
        form.code.errors = list(form.code.errors) + [WRONG_FIRST_CODE]
    form.code.data = ""
    return render_template("second_factor/required.html", form=form, pending=ctx.pending,
                           enrol=service.enrolment_view(ctx.account),
                           flow=binding(ctx)), 400 if form.errors else 200


def _manage_page(account, enrol_form=None, disable_form=None, status=200):
    factor = service.factor_of(account)
    return render_template(
        "second_factor/manage.html", factor=factor,
        enrol=None if factor else service.enrolment_view(account),
        enrol_form=enrol_form or EnrolForm(), disable_form=disable_form or DisableForm(),
        renew_form=RenewForm(),
        codes_left=service.remaining_codes(account) if factor else 0), status


@bp.get("/compte/double-authentification")
@reauth.require_recent_password("second_factor.manage")
def manage():
    return _manage_page(current_account())


@bp.post("/compte/double-authentification/activer")
@reauth.require_recent_password("second_factor.manage")
def enable():
    account = current_account()
    form = EnrolForm()
    if service.factor_of(account) is not None:
        return redirect(url_for("second_factor.manage"))
    if form.validate_on_submit():
        codes = service.confirm_enrolment(account, form.code.data)
        if codes is not None:
            return render_template("second_factor/codes.html", codes=codes, enabled=True)
        form.code.errors = list(form.code.errors) + [WRONG_FIRST_CODE]
    form.code.data = ""
    return _manage_page(account, enrol_form=form, status=400)


@bp.post("/compte/double-authentification/codes")
@reauth.require_recent_password("second_factor.manage")
def renew():
    account = current_account()
    if service.factor_of(account) is None or not RenewForm().validate_on_submit():
        return redirect(url_for("second_factor.manage"))
    return render_template("second_factor/codes.html", codes=service.renew_codes(account),
                           enabled=False)


@bp.post("/compte/double-authentification/desactiver")
def disable():
    """Password and a code (or a recovery code) both required."""
    account = current_account()
    if service.factor_of(account) is None:
        return redirect(url_for("account.index"))
    form = DisableForm(
        check_password=lambda typed: credentials.check_current_password(account, typed),
        check_code=lambda typed: service.check_code(account, typed),
        informal=addressed_as_tu(account))
    if form.validate_on_submit():
        service.disable(account)
        reauth.mark_reauthenticated()
        flash(_("La validation en deux étapes est désactivée."), "success")
        return redirect(url_for("account.index"))
    form.password.data = form.code.data = ""
    return _manage_page(account, disable_form=form, status=400)
