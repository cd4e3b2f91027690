from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import gettext as _

from ...audit import record
from ...relying_parties import find
from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.steps import binding, step_page
from . import service
from .forms import ConsentForm

bp = Blueprint("consent", __name__)
register_step(Step("consent", "consent.ask", service.is_needed))
allow("consent.ask")


@bp.route("/consentement", methods=["GET", "POST"])
@step_page("consent")
def ask(ctx):
    form = ConsentForm()
    status = 200
    if form.validate_on_submit():
        if form.allow.data:
            service.grant(ctx.account, ctx.pending)
            return redirect(url_for("signin.resume"))
        if form.deny.data:
            return refuse(ctx)
        status = 400
        form.allow.errors = [_("Choisissez « Autoriser » ou « Refuser ».")]
    elif form.errors:
        status = 400
    party = find(service.rp_key_of(ctx.pending))
    return render_template("consent/ask.html", form=form, pending=ctx.pending, party=party,
                           shared=service.what_is_shared(ctx.pending, ctx.account),
                           account=ctx.account, flow=binding(ctx)), status


def refuse(ctx):
    """Nothing is released: the protocol's refusal goes back to the RP (OIDC
    access_denied, SAML RequestDenied) through the adapter's deny view, run in this
    request while the pending request is still current; the view finishes it."""
    pending = ctx.pending
    record("consent_refused", actor=ctx.account.identifier,
           target=service.rp_key_of(pending)[:128])
    view = current_app.view_functions.get(pending.deny_endpoint or "")
    if view is not None:
        return view()
    pending.finish()
    return render_template("consent/refused.html", client_name=pending.client_name)
