""""Mes enfants" (/compte/enfants), "Télécharger mes données" and "Fermer mon compte"
(issue 20). Reached through the gate (signed in, every step done); every page asks for the
password again unless it was typed within Mon compte's re-auth window."""
from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext

from ...audit import record
from ...errors import error_page
from ...models import AccountProfile
from ...signin.gate import allow
from ...signin.session import after_logout, current_account, end_session
from ...security.mobile_numbers import display
from ...security.sms_codes import minutes_text
from ..account import reauth
from ..account.views import CODE_ERRORS
from ..activation.forms import parse_birth_date
from . import attach, attach_by_phone, children, merge, own_data
from .forms import (AttachCodeForm, AttachLetterForm, AttachPhoneForm, ChildActionForm,
                    CloseAccountForm, MergeForm)

bp = Blueprint("family", __name__, url_prefix="/compte")
allow("family.closed")  # shown once the account and its session are gone


def _not_found():
    """Another family's pupil, a declined link, an id that does not exist: one answer."""
    return error_page(404, _("Élève introuvable"), _(
        "Cet élève n'est pas rattaché à votre compte. Seuls les enfants rattachés à votre "
        "compte apparaissent dans « Mes enfants » ; si l'un d'eux manque, contactez son "
        "établissement."))


def _refused(reason: str):
    flash(_("Votre enfant est au lycée : il gère lui-même son compte. S'il a oublié son mot "
            "de passe, il peut utiliser « Mot de passe oublié ? » ou s'adresser à son "
            "établissement.") if reason == "level" else
          _("Le compte de votre enfant a été désactivé par l'établissement : seul "
            "l'établissement peut le réactiver. Contactez-le."), "error")
    return redirect(url_for("family.children")), 303


def _parent_only():
    account = current_account()
    if account.profile != AccountProfile.parent:
        return None, error_page(403, _("Réservé aux représentants légaux"), _(
            "« Mes enfants » est réservé aux représentants légaux."))
    return account, None


@bp.get("/enfants", endpoint="children")
@reauth.require_recent_password("family.children")
def children_page():
    account, refused = _parent_only()
    if refused:
        return refused
    return render_template("family/children.html", children=children.children_of(account),
                           form=ChildActionForm())


@bp.post("/enfants/<int:pupil_id>/identifiant")
@reauth.require_recent_password("family.children")
def show_identifier(pupil_id: int):
    account, refused = _parent_only()
    if refused:
        return refused
    if not ChildActionForm().validate_on_submit():
        return redirect(url_for("family.children"))
    try:
        child = children.reveal_identifier(account, pupil_id)
    except children.ChildActionRefused as exc:
        return _refused(exc.reason)
    if child is None:
        return _not_found()
    return render_template("family/child_done.html", child=child, temporary=None)


@bp.post("/enfants/<int:pupil_id>/mot-de-passe")
@reauth.require_recent_password("family.children")
def temporary_password(pupil_id: int):
    account, refused = _parent_only()
    if refused:
        return refused
    if not ChildActionForm().validate_on_submit():
        return redirect(url_for("family.children"))
    try:
        done = children.set_temporary_password(account, pupil_id)
    except children.ChildActionRefused as exc:
        return _refused(exc.reason)
    if done is None:
        return _not_found()
    child, temporary = done
    return render_template("family/child_done.html", child=child, temporary=temporary)


ATTACH_ERRORS = {
    attach.AttachRefused.credentials: lambda: _(
        "Identifiant ou mot de passe provisoire incorrect. Vérifiez-les sur le courrier de "
        "l'établissement (majuscules, minuscules) ; un courrier déjà utilisé pour activer "
        "un compte ne fonctionne plus."),
    attach.AttachRefused.throttled: lambda: _(
        "Trop d'essais pour cet identifiant : réessayez dans quelques minutes."),
    attach.AttachRefused.pupil_letter: lambda: _(
        "Ce courrier est celui d'un élève. Saisissez l'identifiant et le mot de passe "
        "provisoire du courrier adressé au représentant légal."),
    attach.AttachRefused.already: lambda: _(
        "Les élèves de ce courrier sont déjà rattachés à votre compte : rien à ajouter."),
    attach.AttachRefused.no_pupil: lambda: _(
        "Ce courrier ne rattache aucun élève. Contactez l'établissement qui l'a envoyé."),
}


@bp.route("/enfants/ajouter", methods=["GET", "POST"], endpoint="attach")
@reauth.require_recent_password("family.attach")
def attach_page():
    """"Ajouter un enfant" with the letter another school addressed to this
    representative."""
    account, refused = _parent_only()
    if refused:
        return refused
    form = AttachLetterForm()
    if form.validate_on_submit():
        try:
            added = attach.attach_by_letter(account, form.identifier.data, form.password.data)
        except attach.AttachError as exc:
            form.identifier.errors = list(form.identifier.errors) + [
                ATTACH_ERRORS[exc.reason]()]
        else:
            flash(ngettext("%(num)d élève rattaché à votre compte : %(names)s.",
                           "%(num)d élèves rattachés à votre compte : %(names)s.",
                           len(added), names=", ".join(p.first_name for p in added)),
                  "success")
            return redirect(url_for("family.children"))
    form.password.data = ""
    return render_template("family/attach.html", form=form), 400 if form.errors else 200


MERGE_ERRORS = {
    merge.MergeRefused.own: lambda: _(
        "C'est l'identifiant du compte sur lequel vous êtes connecté. Saisissez celui de "
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
}


def _attached_flash(pupil_ids: list[int]) -> None:
    flash(ngettext("%(num)d élève rattaché à votre compte.",
                   "%(num)d élèves rattachés à votre compte.", len(pupil_ids)), "success")


@bp.route("/enfants/ajouter/sms", methods=["GET", "POST"], endpoint="attach_phone")
@reauth.require_recent_password("family.attach")
def attach_phone_page():
    """"Ajouter un enfant" by the number the other school holds: the SMS code first."""
    account, refused = _parent_only()
    if refused:
        return refused
    form = AttachPhoneForm()
    if form.validate_on_submit():
        outcome = attach_by_phone.start(account, form.phone.data, account.locale or "fr")
        if outcome.sent:
            return redirect(url_for("family.attach_code"))
        form.phone.errors = list(form.phone.errors) + [ngettext(
            "Un SMS a déjà été envoyé à ce numéro il y a peu. Réessayez dans %(num)d seconde.",
            "Un SMS a déjà été envoyé à ce numéro il y a peu. Réessayez dans %(num)d "
            "secondes.", outcome.retry_after)]
    return render_template("family/attach_phone.html", form=form), 400 if form.errors else 200


@bp.route("/enfants/ajouter/code", methods=["GET", "POST"], endpoint="attach_code")
@reauth.require_recent_password("family.attach")
def attach_code_page():
    account, refused = _parent_only()
    if refused:
        return refused
    state = attach_by_phone.pending(account)
    if state is None:
        return redirect(url_for("family.attach_phone"))
    form = AttachCodeForm()
    if form.validate_on_submit():
        try:
            attach_by_phone.verify(account, form.code.data)
        except attach_by_phone.SmsCodeError as exc:
            form.code.errors = list(form.code.errors) + [
                CODE_ERRORS[exc.reason](exc.attempts_left or 0)]
        else:
            return redirect(url_for("family.attach_pupils"))
    form.code.data = ""
    return render_template("family/attach_code.html", form=form, resend_form=ChildActionForm(),
                           phone=display(state["phone"]), minutes=minutes_text()), \
        400 if form.errors else 200


@bp.post("/enfants/ajouter/renvoyer", endpoint="attach_resend")
@reauth.require_recent_password("family.attach")
def attach_resend():
    account, refused = _parent_only()
    if refused:
        return refused
    if attach_by_phone.pending(account) is None or not ChildActionForm().validate_on_submit():
        return redirect(url_for("family.attach_phone"))
    outcome = attach_by_phone.resend(account, account.locale or "fr")
    if outcome.sent:
        flash(_("Un nouveau code a été envoyé."), "success")
    else:
        flash(ngettext("Un SMS vient d'être envoyé : vous pourrez en demander un autre dans "
                       "%(num)d seconde.", "Un SMS vient d'être envoyé : vous pourrez en "
                       "demander un autre dans %(num)d secondes.", outcome.retry_after), "info")
    return redirect(url_for("family.attach_code"))


@bp.route("/enfants/ajouter/eleves", methods=["GET", "POST"], endpoint="attach_pupils")
@reauth.require_recent_password("family.attach")
def attach_pupils_page():
    """The birth date of each pupil the school links to the verified number."""
    account, refused = _parent_only()
    if refused:
        return refused
    state = attach_by_phone.pending(account)
    if state is None or not state.get("verified"):
        return redirect(url_for("family.attach_phone"))
    candidates = attach_by_phone.candidates(account)
    form, errors, typed = ChildActionForm(), {}, {}
    if not candidates:
        return render_template("family/attach_pupils.html", candidates=[], form=form,
                               errors={}, typed={}, summary=_(
                                   "Les élèves associés à ce numéro sont déjà rattachés à "
                                   "votre compte : rien à ajouter.")), 400
    if form.validate_on_submit():
        answers = {}
        for c in candidates:
            raw = (request.form.get(f"naissance-{c.account_id}") or "").strip()[:20]
            typed[c.account_id] = raw
            if raw and parse_birth_date(raw) is None:
                errors[c.account_id] = _("Saisissez la date au format JJ/MM/AAAA, par exemple "
                                         "14/03/2012.")
            answers[c.account_id] = parse_birth_date(raw) if raw else None
        if not any(answers.values()) and not errors:
            errors[candidates[0].account_id] = _(
                "Saisissez la date de naissance d'au moins un élève à rattacher.")
        if not errors:
            attached, failures = attach_by_phone.confirm(account, answers)
            if attached:
                _attached_flash(attached)
                return redirect(url_for("family.children"))
            if attach_by_phone.pending(account) is None:
                flash(_("Trop de dates de naissance erronées : aucun élève n'a été rattaché. "
                        "Adressez-vous à l'établissement de votre enfant."), "error")
                return redirect(url_for("family.children")), 303
            left = attach_by_phone.max_failures() - failures
            for c in candidates:
                if answers.get(c.account_id) is not None:
                    errors[c.account_id] = ngettext(
                        "Une date ne correspond pas à celle connue de l'établissement : aucun "
                        "élève n'a été rattaché. Il vous reste %(num)d essai.",
                        "Une date ne correspond pas à celle connue de l'établissement : aucun "
                        "élève n'a été rattaché. Il vous reste %(num)d essais.", left)
                    break
    return render_template("family/attach_pupils.html", candidates=candidates, form=form,
                           errors=errors, typed=typed, summary=None), \
        400 if errors else 200


@bp.route("/fusionner", methods=["GET", "POST"], endpoint="merge")
@reauth.require_recent_password("family.merge")
def merge_page():
    """"Fusionner deux comptes": keep this one, close the other after moving its links,
    consents and charter acceptances."""
    account, refused = _parent_only()
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
