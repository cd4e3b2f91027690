""""Ajouter un enfant" (issue 20, point 2): with another school's letter
(/compte/enfants/ajouter) or by the number that school holds, an SMS code and the
pupils' birth dates (/compte/enfants/ajouter/sms, /code, /eleves). Behind the re-auth
window, for representatives only."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext

from ...security.mobile_numbers import display
from ...security.sms_codes import minutes_text
from .. import birth_dates
from ..account import reauth
from ..fields import sms_code_error
from ..activation.forms import parse_birth_date
from . import attach, attach_by_phone
from .blueprint import bp, parent_only
from .forms import AttachCodeForm, AttachLetterForm, AttachPhoneForm, ChildActionForm

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
    account, refused = parent_only()
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


def _attached_flash(pupil_ids: list[int]) -> None:
    flash(ngettext("%(num)d élève rattaché à votre compte.",
                   "%(num)d élèves rattachés à votre compte.", len(pupil_ids)), "success")


@bp.route("/enfants/ajouter/sms", methods=["GET", "POST"], endpoint="attach_phone")
@reauth.require_recent_password("family.attach")
def attach_phone_page():
    """"Ajouter un enfant" by the number the other school holds: the SMS code first."""
    account, refused = parent_only()
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
    account, refused = parent_only()
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
                sms_code_error(exc.reason, exc.attempts_left or 0)]
        else:
            return redirect(url_for("family.attach_pupils"))
    form.code.data = ""
    return render_template("family/attach_code.html", form=form, resend_form=ChildActionForm(),
                           phone=display(state["phone"]), minutes=minutes_text()), \
        400 if form.errors else 200


@bp.post("/enfants/ajouter/renvoyer", endpoint="attach_resend")
@reauth.require_recent_password("family.attach")
def attach_resend():
    account, refused = parent_only()
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
    account, refused = parent_only()
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
            left = birth_dates.limit() - failures
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
