"""The school's dashboard (issue 20, point 4): per school and class, accounts issued,
activated, pending email, never activated, deactivated, the activation rate and the days
left before the deadline; the list behind each figure; a search (name, pupil, class,
state, email, origin); CSV export of any list; a bulk "Nouveau courrier" for the
never-activated accounts of a class, after a confirmation that says how many it touches.

Same scope rule as every school page: the school is checked by guard.school_or_404, and a
class that is not one of its classes answers 404."""
from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext

from ...audit import record
from ...models import utcnow
from ...roster import LetterError, issue_letters
from ...roster.letters import select_accounts
from .. import dashboard
from ..staff import actor_name
from ..support import classes_of
from . import guard
from .accounts import WRITERS
from .blueprint import bp
from .forms import EmptyForm
from .schools import letters_pdf

LIST_LIMIT = 200

LABELS = {"activated": _l("activé"), "pending_email": _l("en attente de l'email"),
          "never_activated": _l("jamais activé"), "deactivated": _l("désactivé"),
          "letter": _l("courrier"), "sms": _l("SMS"), "franceconnect": _l("FranceConnect"),
          "pupil": _l("élève"), "parent": _l("représentant légal")}


def _filters() -> dashboard.Filters:
    args = request.args

    def arg(name: str, allowed=None) -> str:
        value = (args.get(name) or "").strip()[:100]
        return value if allowed is None or value in allowed else ""

    return dashboard.Filters(q=arg("q"), pupil=arg("eleve"), class_name=arg("classe"),
                             state=arg("etat", dashboard.STATES), email=arg("email"),
                             origin=arg("origine", dashboard.ORIGINS),
                             profile=arg("profil", dashboard.PROFILES))


@bp.get("/etablissements/<uai>/tableau")
def dashboard_page(uai: str):
    school = guard.school_or_404(uai)
    total, classes = dashboard.figures(school)
    return render_template("admin/schools/dashboard.html", school=school, total=total,
                           classes=classes, now=utcnow(), states=dashboard.STATES,
                           labels=LABELS)


@bp.get("/etablissements/<uai>/tableau/liste")
def dashboard_list(uai: str):
    """The list behind a figure, or a search; ?format=csv exports it whole."""
    school = guard.school_or_404(uai)
    filters = _filters()
    if filters.class_name and filters.class_name not in classes_of(school):
        abort(404)  # another school's class, typed into the URL
    found = dashboard.search(school, filters)
    if request.args.get("format") == "csv":
        record("staff_list_exported", actor=actor_name(g.staff), school=school.uai,
               rows=len(found), filters=filters.as_args())
        stamp = utcnow().strftime("%Y%m%d-%H%M")
        return Response(dashboard.to_csv(found, {k: str(v) for k, v in LABELS.items()}),
                        mimetype="text/csv", headers={
                            "Content-Disposition":
                                f'attachment; filename="comptes-{school.uai}-{stamp}.csv"'})
    return render_template("admin/schools/dashboard_list.html", school=school,
                           filters=filters, results=found[:LIST_LIMIT], total=len(found),
                           limit=LIST_LIMIT, classes=classes_of(school),
                           states=dashboard.STATES, origins=dashboard.ORIGINS,
                           profiles=dashboard.PROFILES, labels=LABELS)


def _class_or_404(school, class_name: str | None) -> str:
    class_name = (class_name or "").strip()
    if class_name not in classes_of(school):
        abort(404)
    return class_name


@bp.get("/etablissements/<uai>/tableau/courriers")
@guard.roles(*WRITERS)
def bulk_letters_confirm(uai: str):
    """How many accounts a new letter for the class's never-activated accounts touches."""
    school = guard.school_or_404(uai)
    class_name = _class_or_404(school, request.args.get("classe"))
    accounts = select_accounts(school, class_name=class_name)
    pupils = sum(1 for a in accounts if a.profile.value == "pupil")
    return render_template("admin/schools/bulk_letters.html", school=school,
                           class_name=class_name, count=len(accounts), pupils=pupils,
                           parents=len(accounts) - pupils, action_form=EmptyForm()), \
        200 if accounts else 400


@bp.post("/etablissements/<uai>/tableau/courriers")
@guard.roles(*WRITERS)
def bulk_letters(uai: str):
    school = guard.school_or_404(uai)
    class_name = _class_or_404(school, request.form.get("classe"))
    back = redirect(url_for("admin.bulk_letters_confirm", uai=school.uai, classe=class_name))
    if not EmptyForm().validate_on_submit():
        abort(400)
    if request.form.get("confirme") != "oui":
        flash(_("Cochez la case pour confirmer les nouveaux courriers."), "error")
        return back
    count = len(select_accounts(school, class_name=class_name))
    if count == 0:
        flash(_("Aucun compte jamais activé dans la classe %(name)s : aucun courrier à "
                "imprimer.", name=class_name), "error")
        return back
    if request.form.get("nombre", "") != str(count):
        # The class changed since the confirmation (an import, a family activated): say
        # the new number before touching anything.
        flash(ngettext("La classe a changé depuis votre confirmation : le nouveau courrier "
                       "concerne maintenant %(num)d compte. Confirmez à nouveau.",
                       "La classe a changé depuis votre confirmation : les nouveaux "
                       "courriers concernent maintenant %(num)d comptes. Confirmez à nouveau.",
                       count), "error")
        return back
    try:
        batch = issue_letters(school, class_name=class_name, actor=actor_name(g.staff))
    except LetterError:
        abort(404)
    record("staff_bulk_letters", actor=actor_name(g.staff), school=school.uai,
           class_name=class_name, letters=len(batch.letters))
    return letters_pdf(batch, school, "classe")
