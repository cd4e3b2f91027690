from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ...extensions import academies
from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.steps import step_done, step_page
from . import service
from .forms import WayfForm

bp = Blueprint("wayf", __name__)
register_step(Step("wayf", "wayf.choose", service.is_needed, bound=False, skippable=True))
allow("wayf.choose")


def _signed_out(ctx) -> bool:
    return ctx.account is None


@bp.route("/choisir-profil", methods=["GET", "POST"])
@step_page("wayf", on_demand=_signed_out)  # "Changer de profil" before signing in
def choose(ctx):
    current = service.current_choice(ctx)
    form = WayfForm(academies(), data=current.__dict__ if current else None)
    if form.validate_on_submit():
        response = step_done()
        service.remember(response, service.WayfChoice(form.profile.data, form.academy.data),
                         secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response
    return render_template("wayf/choose.html", form=form), 200 if not form.errors else 400
