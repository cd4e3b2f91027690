"""A school's accounts: search by name or identifier, one account's state and links, and
the support actions (new letter, reactivation with a new deadline, unlock, resend the
activation email). The account is always looked up *within* the school of the URL, itself
within the staff member's scope: another school's account answers 404."""
from __future__ import annotations

from flask import (abort, current_app, flash, g, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import InputRequired, ValidationError

from ...audit import record
from ...local_time import paris_today
from ...models import AccountState, StaffRole
from ...roster import LetterError, issue_letters
from .. import support
from ..staff import actor_name
from . import guard
from .blueprint import bp
from .forms import EmptyForm
from .schools import letters_pdf

WRITERS = (StaffRole.operator, StaffRole.school_staff)


class ReactivateForm(FlaskForm):
    deadline = DateField(_l("Nouvelle date limite d'activation"), render_kw={"type": "date"},
                         validators=[InputRequired(_l("Indiquez une date."))])

    def validate_deadline(self, field):
        today = paris_today()
        if field.data and not today < field.data <= support.latest_deadline(today):
            raise ValidationError(_l("Choisissez une date dans l'année à venir."))


def _account_or_404(school, account_id: int):
    account = support.find_in_school(school, account_id)
    if account is None:
        abort(404)
    return account


@bp.get("/etablissements/<uai>/comptes")
def accounts(uai: str):
    school = guard.school_or_404(uai)
    q = (request.args.get("q") or "").strip()[:100]
    results = support.search(school, q) if q else []
    locked = {a.id: bool(support.lock_reasons(a)) for a in results}
    return render_template("admin/schools/accounts.html", school=school, q=q,
                           results=results, locked=locked, limit=support.SEARCH_LIMIT)


def _account_page(school, account, reactivate_form=None, status: int = 200):
    form = reactivate_form or ReactivateForm()
    if form.deadline.data is None and not form.errors:
        form.deadline.data = support.default_deadline()
    return render_template("admin/schools/account.html", school=school,
                           info=support.view(account), account=account,
                           reactivate_form=form, action_form=EmptyForm(),
                           States=AccountState), status


@bp.get("/etablissements/<uai>/comptes/<int:account_id>")
def account(uai: str, account_id: int):
    school = guard.school_or_404(uai)
    account = _account_or_404(school, account_id)
    # Who looked at a family's data is part of the trail, like what they changed.
    record("staff_account_viewed", actor=actor_name(g.staff), target=account.identifier,
           school=school.uai)
    return _account_page(school, account)


def _done(school, account, message: str):
    flash(message, "info")
    return redirect(url_for("admin.account", uai=school.uai, account_id=account.id))


@bp.post("/etablissements/<uai>/comptes/<int:account_id>/deverrouiller")
@guard.roles(*WRITERS)
def account_unlock(uai: str, account_id: int):
    school = guard.school_or_404(uai)
    account = _account_or_404(school, account_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    was = support.unlock(account, actor=actor_name(g.staff))
    return _done(school, account, _("Compte déverrouillé.") if was else
                 _("Ce compte n'était pas verrouillé ; les compteurs sont remis à zéro."))


@bp.post("/etablissements/<uai>/comptes/<int:account_id>/reactiver")
@guard.roles(*WRITERS)
def account_reactivate(uai: str, account_id: int):
    school = guard.school_or_404(uai)
    account = _account_or_404(school, account_id)
    form = ReactivateForm()
    if form.validate():
        try:
            support.reactivate(account, form.deadline.data, actor=actor_name(g.staff))
        except support.SupportError as exc:
            g.db_rollback = True
            form.deadline.errors = [str(exc)]
        else:
            return _done(school, account, _("Compte réactivé jusqu'au %(date)s.",
                                            date=form.deadline.data.strftime("%d/%m/%Y")))
    return _account_page(school, account, reactivate_form=form, status=400)


@bp.post("/etablissements/<uai>/comptes/<int:account_id>/renvoyer-activation")
@guard.roles(*WRITERS)
def account_resend(uai: str, account_id: int):
    school = guard.school_or_404(uai)
    account = _account_or_404(school, account_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        support.resend_activation(account, actor=actor_name(g.staff))
    except support.SupportError as exc:
        g.db_rollback = True
        flash(str(exc), "error")
        return redirect(url_for("admin.account", uai=school.uai, account_id=account.id))
    return _done(school, account, _("Message d'activation renvoyé à %(email)s.",
                                    email=account.email))


@bp.get("/etablissements/<uai>/comptes/<int:account_id>/courrier")
@guard.roles(*WRITERS)
def account_letter_confirm(uai: str, account_id: int):
    """What a new letter will do to this account, said before it is done (a mis-click
    must not reset a working account)."""
    school = guard.school_or_404(uai)
    account = _account_or_404(school, account_id)
    return render_template("admin/schools/letter_confirm.html", school=school,
                           account=account, action_form=EmptyForm(),
                           window_days=int(current_app.config["ACTIVATION_WINDOW_DAYS"]))


@bp.post("/etablissements/<uai>/comptes/<int:account_id>/courrier")
@guard.roles(*WRITERS)
def account_letter(uai: str, account_id: int):
    """Re-issue provisional credentials: a new letter (PDF) for this account only, once
    the confirmation page's box is ticked."""
    school = guard.school_or_404(uai)
    account = _account_or_404(school, account_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if request.form.get("confirme") != "oui":
        flash(_("Cochez la case pour confirmer le nouveau courrier."), "error")
        return redirect(url_for("admin.account_letter_confirm", uai=school.uai,
                                account_id=account.id))
    try:
        batch = issue_letters(school, account_ref=str(account.id), actor=actor_name(g.staff))
    except LetterError:
        g.db_rollback = True
        flash(_("Ce compte n'est pas dans les listes importées de l'établissement : "
                "aucun courrier ne peut être imprimé ici."), "error")
        return redirect(url_for("admin.account", uai=school.uai, account_id=account.id))
    return letters_pdf(batch, school, account.identifier)
