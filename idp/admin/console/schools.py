"""School pages: the schools in this staff member's scope, roster import and its report,
notification letters (school, class, one account) as a PDF download.

The school is always named by its UAI in the URL and checked by guard.school_or_404:
a school outside the staff member's scope does not exist for them."""
from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.validators import Length, ValidationError

from ...db import db
from ...models import RosterImport, School, utcnow
from ...roster import LetterError, import_roster, issue_letters
from ...roster.csvfile import MAX_BYTES
from ..staff import actor_name
from ..support import classes_of, declined_links, find_by_identifier
from . import guard
from .blueprint import bp


class ImportForm(FlaskForm):
    roster = FileField(_l("Fichier CSV exporté du logiciel de l'établissement"))
    dry_run = BooleanField(_l("Vérifier seulement (ne rien enregistrer)"))

    def validate_roster(self, field):
        if not (field.data and getattr(field.data, "filename", "")):
            raise ValidationError(_l("Choisissez le fichier à importer."))


class LettersForm(FlaskForm):
    scope = RadioField(_l("Courriers à imprimer"), default="school", choices=[
        ("school", _l("Tout l'établissement (comptes pas encore activés)")),
        ("class", _l("Une classe (élèves et leurs représentants)")),
        ("account", _l("Un compte (nouveau mot de passe provisoire)"))])
    class_name = SelectField(_l("Classe"), choices=[], validate_choice=False)
    account = StringField(_l("Identifiant du compte"), validators=[Length(max=64)],
                          render_kw={"autocapitalize": "none", "spellcheck": "false"})

    def validate_class_name(self, field):
        if self.scope.data == "class" and not field.data:
            raise ValidationError(_l("Choisissez une classe."))

    def validate_account(self, field):
        if self.scope.data == "account" and not (field.data or "").strip():
            raise ValidationError(_l("Indiquez l'identifiant du compte."))


def _school_page(school: School, import_form=None, letters_form=None, report=None,
                 status: int = 200):
    imports = db.session.scalars(select(RosterImport).where(RosterImport.school_id == school.id)
                                 .order_by(RosterImport.created_at.desc()).limit(20)).all()
    letters = letters_form or LettersForm()
    letters.class_name.choices = [("", "—")] + [(c, c) for c in classes_of(school)]
    return render_template("admin/schools/school.html", school=school,
                           import_form=import_form or ImportForm(), letters_form=letters,
                           imports=imports, report=report, q="",
                           declined=declined_links(school=school)), status


@bp.get("/etablissements")
def schools():
    scope = guard.school_ids_in_scope()
    if scope is not None:
        rows = g.staff.schools
    else:
        rows = db.session.scalars(select(School).order_by(School.uai).limit(500)).all()
    wanted = (request.args.get("uai") or "").strip()
    if wanted:
        return redirect(url_for("admin.school", uai=guard.school_or_404(wanted).uai))
    return render_template("admin/schools/list.html", schools=rows)


@bp.get("/etablissements/<uai>")
def school(uai: str):
    return _school_page(guard.school_or_404(uai))


@bp.post("/etablissements/<uai>/import")
@guard.roles(guard.StaffRole.operator, guard.StaffRole.school_staff)
def school_import(uai: str):
    school = guard.school_or_404(uai)
    form = ImportForm()
    if not form.validate():
        return _school_page(school, import_form=form, status=400)
    upload = form.roster.data
    report = import_roster(school.uai, upload.read(MAX_BYTES + 1), dry_run=bool(form.dry_run.data),
                           actor=actor_name(g.staff), file_name=(upload.filename or "")[:255])
    if report.file_error:
        g.db_rollback = True  # a file that is not a roster writes nothing
        form.roster.errors = [report.file_error]
        return _school_page(school, import_form=form, status=400)
    if report.dry_run:
        return _school_page(school, import_form=form, report=report.as_dict())
    flash(_("Import enregistré : %(rows)s, %(rejected)s.",
            rows=ngettext("%(num)d ligne", "%(num)d lignes", report.rows),
            rejected=ngettext("%(num)d refusée", "%(num)d refusées", report.rejected)), "info")
    return redirect(url_for("admin.school_report", uai=school.uai, import_id=report.import_id))


@bp.get("/etablissements/<uai>/imports/<int:import_id>")
def school_report(uai: str, import_id: int):
    school = guard.school_or_404(uai)
    row = db.session.get(RosterImport, import_id)
    if row is None or row.school_id != school.id:
        abort(404)
    return render_template("admin/schools/report.html", school=school, row=row,
                           report=row.report)


def letters_pdf(batch, school: School, label: str) -> Response:
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(batch.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="courriers-{school.uai}-{label}-{stamp}.pdf"'})


@bp.post("/etablissements/<uai>/courriers")
@guard.roles(guard.StaffRole.operator, guard.StaffRole.school_staff)
def school_letters(uai: str):
    """New provisional passwords and their letters. The passwords are committed with the
    response (db.py commits before the PDF leaves): never a letter that does not work."""
    school = guard.school_or_404(uai)
    form = LettersForm()
    form.class_name.choices = [("", "—")] + [(c, c) for c in classes_of(school)]
    if not form.validate():
        return _school_page(school, letters_form=form, status=400)
    account_ref, class_name, label = None, None, "etablissement"
    if form.scope.data == "class":
        if form.class_name.data not in classes_of(school):
            abort(404)  # a class of another school, typed into the form
        class_name, label = form.class_name.data, "classe"
    elif form.scope.data == "account":
        account = find_by_identifier(school, form.account.data)
        if account is None:
            abort(404)  # not an account of this school: nothing to say about it
        account_ref, label = str(account.id), account.identifier
    try:
        batch = issue_letters(school, class_name=class_name, account_ref=account_ref,
                              actor=actor_name(g.staff))
    except LetterError:
        abort(404)
    if not batch.letters:
        g.db_rollback = True
        form.scope.errors = [_("Aucun compte en attente d'activation : aucun courrier à "
                               "imprimer. Pour un compte déjà activé, choisissez « Un compte ».")]
        return _school_page(school, letters_form=form, status=400)
    return letters_pdf(batch, school, label)
