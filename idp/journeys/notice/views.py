from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _

from ...db import db
from ...models import AccountProfile, RPNotice
from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.steps import binding, step_done, step_page
from ..charter import text
from . import service
from .forms import NoticeForm, PupilNoticeForm

bp = Blueprint("notice", __name__)
register_step(Step("rp_notice", "notice.acknowledge", service.is_needed))
allow("notice.acknowledge")


@bp.route("/information-service", methods=["GET", "POST"])
@step_page("rp_notice")
def acknowledge(ctx):
    notice = db.session.get(RPNotice, service.notice_to_acknowledge(ctx.account, ctx.pending))
    pupil = ctx.account.profile == AccountProfile.pupil  # a pupil's page says "tu"
    form = PupilNoticeForm() if pupil else NoticeForm()
    status = 200
    if form.validate_on_submit():
        if form.notice.data != str(notice.id):
            form.acknowledge.errors = [
                _("Ces informations ont été mises à jour : lis-les à nouveau.") if pupil
                else _("Ces informations ont été mises à jour : lisez-les à nouveau.")]
            form.acknowledge.data = False
            status = 400
        else:
            service.acknowledge(ctx.account, notice)
            return step_done()
    elif form.errors:
        status = 400
    form.notice.data = str(notice.id)
    return render_template("notice/acknowledge.html", form=form, notice=notice,
                           blocks=text.blocks(service.wording(notice, pupil)), pending=ctx.pending,
                           flow=binding(ctx)), status
