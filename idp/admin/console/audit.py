"""The audit trail: filters (action, actor, target, IP, dates), pages of 50, CSV export."""
from __future__ import annotations

from flask import Response, g, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ...audit import record
from ...models import utcnow
from ..audit_trail import AuditFilter, export_csv, known_actions, page
from ..staff import actor_name
from . import guard
from .blueprint import bp


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form: nothing changes

    action = StringField(_l("Action (ex. login_failed, ou staff_* )"),
                         validators=[Optional(), Length(max=64, message=_l("Trop long."))],
                         render_kw={"list": "audit-actions", "autocomplete": "off"})
    actor = StringField(_l("Auteur (identifiant, staff:…)"), validators=[Optional(), Length(max=64)])
    target = StringField(_l("Cible"), validators=[Optional(), Length(max=128)])
    ip = StringField(_l("Adresse IP"), validators=[Optional(), Length(max=45)])
    since = DateField(_l("Du (inclus)"), validators=[Optional()],
                      render_kw={"type": "date"})
    until = DateField(_l("Au (inclus)"), validators=[Optional()], render_kw={"type": "date"})

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("La date de fin précède la date de début."))

    def filters(self) -> AuditFilter:
        clean = lambda f: (f.data or "").strip() or None  # noqa: E731
        return AuditFilter(action=clean(self.action), actor=clean(self.actor),
                           target=clean(self.target), ip=clean(self.ip),
                           since=self.since.data, until=self.until.data)


def _form() -> FilterForm:
    return FilterForm(request.args)


@bp.get("/journal")
@guard.roles(*guard.READERS)
def audit():
    form = _form()
    valid = form.validate() if request.args else True
    filters = form.filters() if valid else AuditFilter()
    before = request.args.get("avant", type=int)
    events, next_before = page(filters, before=before) if valid else ([], None)
    return render_template("admin/audit.html", form=form, events=events, next_before=next_before,
                           args=filters.as_args(), actions=known_actions()), 200 if valid else 400


@bp.get("/journal.csv")
@guard.roles(*guard.READERS)
def audit_csv():
    form = _form()
    if request.args and not form.validate():
        return audit()
    filters = form.filters()
    # Exporting personal data is itself an administrator action.
    record("audit_exported", actor=actor_name(g.staff), filters=filters.as_args())
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(stream_with_context(export_csv(filters)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="journal-{stamp}.csv"'})
