"""Forced password change campaigns in the console (issue 17, point 3): the same
population filters as `idp security force-password-change`, a count first, then a
confirmation that repeats the count (refused if the population changed meanwhile), and
each campaign's progress (forced, done, remaining). Operators force; auditors read."""
from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp, ValidationError

from ...extensions import academies
from ...journeys.password_change import service
from ...models import AccountProfile
from ..staff import actor_name
from . import guard
from .blueprint import bp


class PopulationForm(FlaskForm):
    profile = SelectField(_l("Profil"), choices=[
        ("", _l("Tous")), ("parent", _l("Représentants légaux")), ("pupil", _l("Élèves"))],
        validators=[Optional()])
    academy = StringField(_l("Académie (code, ex. nancy-metz)"),
                          validators=[Optional(), Length(max=32)])
    uai = StringField(_l("Établissement (UAI, ex. 0540042A)"), validators=[
        Optional(), Regexp(r"^\s*\d{7}[A-Za-z]\s*$", message=_l("Un UAI : 7 chiffres et une lettre."))])
    changed_before = DateField(_l("Mot de passe choisi avant le"), validators=[Optional()])
    expected = HiddenField()  # the count confirmed by the operator

    def validate_academy(self, field):
        code = (field.data or "").strip().lower()
        if code and code not in academies():
            raise ValidationError(_("Académie inconnue : saisissez son code, par exemple "
                                    "nancy-metz."))
        field.data = code


# The campaigns table names a campaign's criteria in French (its filters are stored with
# the CLI's English keys and values).
CRITERIA = {"profile": _l("Profil"), "academy": _l("Académie"), "uai": _l("UAI"),
            "changed_before": _l("Mot de passe choisi avant le")}
PROFILES = {"parent": _l("représentants légaux"), "pupil": _l("élèves")}


def _population(form: PopulationForm) -> service.Population:
    return service.Population(
        AccountProfile(form.profile.data) if form.profile.data else None,
        (form.academy.data or "").strip() or None,
        (form.uai.data or "").strip().upper() or None,
        form.changed_before.data if isinstance(form.changed_before.data, date) else None)


@bp.route("/campagnes-mot-de-passe", methods=["GET", "POST"])
@guard.roles(*guard.READERS)
def campaigns():
    form = PopulationForm()
    counts = None
    status = 200
    if request.method == "POST":
        if not form.validate():
            status = 400
        else:
            population = _population(form)
            counts = service.count(population)
            if request.form.get("action") == "force":
                if form.expected.data != str(counts["accounts"]):
                    flash(_("Le nombre de comptes a changé depuis le décompte : vérifiez-le "
                            "et confirmez à nouveau."), "error")
                elif counts["accounts"] == 0:
                    flash(_("Aucun compte ne correspond à ces critères."), "error")
                else:
                    campaign = service.force(population, by=actor_name(g.staff))
                    flash(ngettext("Campagne %(id)d : %(num)d compte devra choisir un "
                                   "nouveau mot de passe à sa prochaine connexion.",
                                   "Campagne %(id)d : %(num)d comptes devront choisir un "
                                   "nouveau mot de passe à leur prochaine connexion.",
                                   campaign.forced, id=campaign.id), "success")
                    return redirect(url_for("admin.campaigns"))
            form.expected.data = str(counts["accounts"])
    return render_template("admin/campaigns.html", form=form, counts=counts,
                           campaigns=service.progress(), criteria=CRITERIA,
                           profiles=PROFILES), status
