from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _

from ...audit import record
from ...relying_parties import find
from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.engine import deny_pending
from ...signin.steps import binding, step_done, step_page
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
            return step_done()
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
    access_denied, SAML RequestDenied) through its adapter, in this request."""
    record("consent_refused", actor=ctx.account.identifier,
           target=service.rp_key_of(ctx.pending)[:128])
    return deny_pending()
