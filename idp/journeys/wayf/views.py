from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for

from ...extensions import academies
from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.plan import current_context
from . import service
from .forms import WayfForm

bp = Blueprint("wayf", __name__)
register_step(Step("wayf", "wayf.choose", service.is_needed))
allow("wayf.choose")


@bp.route("/choisir-profil", methods=["GET", "POST"])
def choose():
    current = service.current_choice(current_context())
    form = WayfForm(academies(), data=current.__dict__ if current else None)
    if form.validate_on_submit():
        response = redirect(url_for("signin.resume"))
        service.remember(response, service.WayfChoice(form.profile.data, form.academy.data),
                         secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response
    return render_template("wayf/choose.html", form=form), 200 if not form.errors else 400
