""""Mes enfants" (/compte/enfants), "Télécharger mes données" and "Fermer mon compte"
(issue 20). Reached through the gate (signed in, every step done); every page asks for the
password again unless it was typed within Mon compte's re-auth window."""
from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext

from ...audit import record
from ...errors import error_page
from ...models import AccountProfile
from ...signin.gate import allow
from ...signin.session import after_logout, current_account, end_session
from ..account import reauth
from . import attach_views  # noqa: F401 (its routes, on the same blueprint)
from . import children, merge, own_data
from .blueprint import bp, parent_only
from .forms import ChildActionForm, CloseAccountForm, MergeForm

allow("family.closed")  # shown once the account and its session are gone


def _not_found():
    """Another family's pupil, a declined link, an id that does not exist: one answer."""
    return error_page(404, _("Élève introuvable"), _(
        "Cet élève n'est pas rattaché à votre compte. Seuls les enfants rattachés à votre "
        "compte apparaissent dans « Mes enfants » ; si l'un d'eux manque, contactez son "
        "établissement."))


def _refused(reason: str):
    flash(_("Votre enfant est au lycée et gère son compte de façon autonome. En cas d'oubli "
            "du mot de passe, « Mot de passe oublié ? » ou son établissement peuvent "
            "l'aider.") if reason == "level" else
          _("Le compte de votre enfant a été désactivé par l'établissement : seul "
            "l'établissement peut le réactiver. Contactez-le."), "error")
    return redirect(url_for("family.children")), 303


@bp.get("/enfants", endpoint="children")
@reauth.require_recent_password("family.children")
def children_page():
    account, refused = parent_only()
    if refused:
        return refused
    return render_template("family/children.html", children=children.children_of(account),
                           form=ChildActionForm())


def _done_page(done):
    child, temporary = done
    return render_template("family/child_done.html", child=child, temporary=temporary)


def _confirm_page(child):
    return render_template("family/temporary_confirm.html", child=child,
                           form=ChildActionForm())


def _child_action(pupil_id: int, action, page=_done_page):
    """A request of "Mes enfants" on one pupil (a POST needs its CSRF token):
    `action(account, pupil_id)` returns what `page` shows (for the actions, the Child and
    the temporary password, None when the action shows the identifier), or None when the
    pupil is not this representative's."""
    account, refused = parent_only()
    if refused:
        return refused
    if request.method == "POST" and not ChildActionForm().validate_on_submit():
        return redirect(url_for("family.children"))
    try:
        done = action(account, pupil_id)
    except children.ChildActionRefused as exc:
        return _refused(exc.reason)
    if done is None:
        return _not_found()
    return page(done)


def _identifier_shown(account, pupil_id: int):
    child = children.reveal_identifier(account, pupil_id)
    return None if child is None else (child, None)


@bp.post("/enfants/<int:pupil_id>/identifiant")
@reauth.require_recent_password("family.children")
def show_identifier(pupil_id: int):
    return _child_action(pupil_id, _identifier_shown)


@bp.route("/enfants/<int:pupil_id>/mot-de-passe", methods=["GET", "POST"])
@reauth.require_recent_password("family.children")
def temporary_password(pupil_id: int):
    """The button of "Mes enfants" (a POST without `confirm`) or a GET: the page saying
    what will happen, with « Confirmer » and « Annuler »; only the confirmed POST (its
    CSRF token and `confirm`) sets the temporary password."""
    if request.method == "POST" and request.form.get("confirm"):
        return _child_action(pupil_id, children.set_temporary_password)
    return _child_action(pupil_id, children.temporary_password_target, _confirm_page)


MERGE_ERRORS = {
    merge.MergeRefused.own: lambda: _(
        "C'est l'identifiant du compte utilisé en ce moment. Saisissez celui de "
        "votre autre compte."),
    merge.MergeRefused.credentials: lambda: _(
        "Identifiant ou mot de passe incorrect. Vérifiez-les (majuscules, minuscules)."),
    merge.MergeRefused.throttled: lambda: _(
        "Trop d'essais pour cet identifiant : réessayez dans quelques minutes."),
    merge.MergeRefused.pupil: lambda: _(
        "C'est le compte d'un élève : un compte d'élève ne peut pas être fusionné avec un "
        "compte de représentant légal. Pour rattacher votre enfant, utilisez « Ajouter un "
        "enfant »."),
    merge.MergeRefused.not_active: lambda: _(
        "Cet autre compte n'est pas activé. S'il vient d'un courrier jamais utilisé, "
        "utilisez « Ajouter un enfant » ; s'il a été désactivé, contactez l'établissement."),
    merge.MergeRefused.second_factor: lambda: _(
        "Cet autre compte est protégé par une validation en deux étapes : connectez-vous "
        "d'abord à ce compte pour la désactiver (Mon compte), puis revenez fusionner."),
}


@bp.route("/fusionner", methods=["GET", "POST"], endpoint="merge")
@reauth.require_recent_password("family.merge")
def merge_page():
    """"Fusionner deux comptes": keep this one, close the other after moving its links,
    consents and charter acceptances."""
    account, refused = parent_only()
    if refused:
        return refused
    form = MergeForm()
    if form.validate_on_submit():
        if not form.understood.data:
            form.understood.errors = [_("Cochez la case pour confirmer la fusion.")]
        else:
            try:
                moved = merge.merge(account, form.identifier.data, form.password.data)
            except merge.MergeError as exc:
                form.identifier.errors = list(form.identifier.errors) + [
                    MERGE_ERRORS[exc.reason]()]
            else:
                flash(_("Vos deux comptes sont fusionnés : %(pupils)s. L'autre compte est "
                        "fermé ; vous vous connectez désormais avec l'identifiant %(id)s.",
                        pupils=ngettext("%(num)d élève rattaché en plus",
                                        "%(num)d élèves rattachés en plus", moved["pupils"]),
                        id=account.identifier), "success")
                return redirect(url_for("family.children"))
    form.password.data = ""
    return render_template("family/merge.html", form=form,
                           identifier=account.identifier), 400 if form.errors else 200


@bp.get("/mes-donnees", endpoint="own_data")
@reauth.require_recent_password("family.own_data")
def own_data_page():
    account = current_account()
    return render_template("family/own_data.html", may_close=own_data.may_close(account),
                           profile=account.profile.value, close_form=CloseAccountForm())


@bp.get("/mes-donnees/telecharger")
@reauth.require_recent_password("family.own_data")
def download():
    """The JSON file (an attachment; Cache-Control no-store like every personal page)."""
    account = current_account()
    data = own_data.export(account)
    record("own_data_downloaded", actor=account.identifier)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition":
            f'attachment; filename="mes-donnees-{account.identifier}.json"'})


@bp.post("/fermer")
@reauth.require_recent_password("family.own_data")
def close():
    account = current_account()
    form = CloseAccountForm()
    if not form.validate_on_submit():
        return redirect(url_for("family.own_data"))
    if not own_data.may_close(account):
        flash(_("Ce compte a été créé par l'établissement scolaire : pour le fermer, "
                "adressez-vous à l'établissement.") if account.profile == AccountProfile.parent
              else _("Ton compte a été créé par ton établissement : pour le fermer, "
                     "adresse-toi à ton établissement."), "error")
        return redirect(url_for("family.own_data")), 303
    if not form.understood.data:
        return render_template("family/own_data.html", may_close=True, profile="parent",
                               close_form=form, close_error=_(
                                   "Cochez la case pour confirmer la fermeture du compte.")), 400
    own_data.close(account)
    end_session()  # this browser's relying parties hear it too (back channel)
    return after_logout(url_for("family.closed"))


@bp.get("/ferme")
def closed():
    return render_template("family/closed.html")
