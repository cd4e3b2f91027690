from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _

from ...models import AccountProfile
from ...models.consent import GENERAL_AUDIENCE
from ...relying_parties import find
from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.steps import binding, step_done, step_page
from . import service, text
from .forms import CharterForm, PupilCharterForm

bp = Blueprint("charter", __name__)
register_step(Step("charter", "charter.accept", service.is_needed))
allow("charter.accept")


@bp.route("/charte", methods=["GET", "POST"])
@step_page("charter")
def accept(ctx):
    """One charter at a time (the general one, then the RP's own): read, tick, Valider."""
    charter = service.first_charter_to_accept(ctx.account, ctx.pending)
    tu = ctx.account.profile == AccountProfile.pupil  # a pupil's page says "tu"
    form = (PupilCharterForm if tu else CharterForm)()
    status = 200
    if form.validate_on_submit():
        if form.charter.data != str(charter.id):
            # Shown one version, a newer one was published meanwhile (or a forged id).
            form.accept.errors = [
                _("La charte a été mise à jour : lis cette nouvelle version avant de "
                  "l'accepter.") if tu else
                _("La charte a été mise à jour : lisez cette nouvelle version avant de "
                  "l'accepter.")]
            form.accept.data = False
            status = 400
        else:
            service.accept(ctx.account, charter)
            return step_done()
    elif form.errors:
        status = 400
    form.charter.data = str(charter.id)
    party = None
    if charter.audience != GENERAL_AUDIENCE:
        party = find(charter.audience)
    return render_template("charter/accept.html", form=form, charter=charter,
                           blocks=text.blocks(service.wording(charter, tu)), party=party,
                           pending=ctx.pending, flow=binding(ctx)), status
