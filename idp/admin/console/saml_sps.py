"""Relying parties, SAML side: register from uploaded metadata or its URL, edit the
released attributes, signing and encryption, refresh the metadata, enable/disable.

Metadata is checked in full (well-formed, no DTD, SAML 2.0 schema, an SPSSODescriptor
with an HTTP-POST ACS, not expired) before anything is written; a refusal shows the
form again with the reason next to the metadata field."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import Length, ValidationError

from ...saml import registry
from ...saml.registry import RegistrationError, parse_metadata, read_metadata, register_sp
from .. import saml_sps
from ..staff import actor_name
from . import guard
from .blueprint import bp
from .forms import EmptyForm, MultiCheckboxField, uri_problem

SIGN = [("both", _l("La réponse et l'assertion")), ("response", _l("La réponse")),
        ("assertion", _l("L'assertion"))]


def _schema():
    return current_app.extensions["idp"]["saml"].schema


class AttributesMixin:
    def fill_choices(self):
        schema = _schema()
        self.attributes.choices = [(n, f"{n} — {s.description}" if s.description else n)
                                   for n, s in schema.specs.items()]
        self.profile.choices = [("", _l("Aucun : les attributs cochés seulement"))] + [
            (p, f"{p} ({', '.join(names)})") for p, names in schema.profiles.items()]

    def wanted(self) -> list[str]:
        return ([self.profile.data] if self.profile.data else []) + list(self.attributes.data)


class MetadataMixin:
    def validate_metadata_url(self, field):
        has_file = bool(self.metadata_file.data and getattr(self.metadata_file.data, "filename", ""))
        url = (field.data or "").strip()
        if has_file == bool(url):
            raise ValidationError(_l("Déposez le fichier de métadonnées ou donnez son adresse "
                                     "(l'un ou l'autre)."))
        if url:
            problem = uri_problem(url)
            if problem:
                raise ValidationError(problem)

    def metadata_xml(self) -> str:
        """The metadata text, or RegistrationError (read errors included)."""
        if self.metadata_url.data and self.metadata_url.data.strip():
            return read_metadata(self.metadata_url.data.strip())
        return saml_sps.metadata_text(self.metadata_file.data.read(saml_sps.MAX_UPLOAD + 1))


class NewSPForm(AttributesMixin, MetadataMixin, FlaskForm):
    metadata_file = FileField(_l("Fichier de métadonnées du service (XML)"))
    metadata_url = StringField(_l("ou adresse des métadonnées (https://…)"),
                               validators=[Length(max=500)])
    name = StringField(_l("Nom affiché aux familles (par défaut : celui des métadonnées)"),
                       render_kw={"maxlength": registry.MAX_NAME})
    profile = SelectField(_l("Profil d'attributs"), choices=[], validate_choice=True)
    attributes = MultiCheckboxField(_l("Attributs transmis"), choices=[])
    sign_mode = RadioField(_l("Ce qui est signé"), choices=SIGN, default="both")
    encrypt = RadioField(_l("Chiffrement de l'assertion"), default="auto", choices=[
        ("auto", _l("Si les métadonnées donnent une clé de chiffrement")),
        ("yes", _l("Toujours (une clé de chiffrement est exigée)")), ("no", _l("Jamais"))])


class EditSPForm(AttributesMixin, FlaskForm):
    name = StringField(_l("Nom affiché aux familles"),
                       render_kw={"required": True, "maxlength": registry.MAX_NAME})
    profile = SelectField(_l("Ajouter un profil d'attributs"), choices=[])
    attributes = MultiCheckboxField(_l("Attributs transmis"), choices=[])
    sign_mode = RadioField(_l("Ce qui est signé"), choices=SIGN)
    encrypt = RadioField(_l("Chiffrement de l'assertion"), choices=[
        ("yes", _l("Chiffrer (clé des métadonnées)")), ("no", _l("Ne pas chiffrer"))])


class RefreshForm(MetadataMixin, FlaskForm):
    metadata_file = FileField(_l("Nouveau fichier de métadonnées"))
    metadata_url = StringField(_l("ou adresse des métadonnées"), validators=[Length(max=500)])


def _refused(form, metadata_field, exc: RegistrationError) -> None:
    """Each reason beside its field (registry.validate_sp's, in French); a metadata
    reason (or one without a field: a fetch that failed) beside the metadata field."""
    g.db_rollback = True  # nothing half-registered
    problems = exc.problems or {"metadata": None}
    for key, problem in problems.items():
        field = metadata_field if key == "metadata" or key not in form else form[key]
        reason = problem.shown() if problem else _("Métadonnées refusées : %(reason)s",
                                                   reason=str(exc))
        field.errors = list(field.errors) + [reason]


def _sp_or_404(sp_id: int):
    try:
        return saml_sps.require_sp(sp_id)
    except RegistrationError:
        abort(404)


@bp.route("/services/saml/nouveau", methods=["GET", "POST"])
@guard.roles(*guard.READERS)
def sp_new():
    form = NewSPForm()
    form.fill_choices()
    if request.method == "POST" and form.validate():
        target = form.metadata_file if not form.metadata_url.data.strip() else form.metadata_url
        try:
            xml = form.metadata_xml()
            encrypt = {"auto": None, "yes": True, "no": False}[form.encrypt.data]
            row = register_sp(metadata=xml, attributes=form.wanted(), sign_mode=form.sign_mode.data,
                              encrypt=encrypt, name=(form.name.data or "").strip() or None,
                              actor=actor_name(g.staff))
        except RegistrationError as exc:
            _refused(form, target, exc)
        else:
            if form.metadata_url.data.strip():
                row.metadata_source = form.metadata_url.data.strip()[:500]
            flash(_("Service SAML enregistré : %(name)s.", name=row.name), "info")
            return redirect(url_for("admin.sp_edit", sp_id=row.id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/clients/saml_new.html", form=form), status


@bp.route("/services/saml/<int:sp_id>", methods=["GET", "POST"])
@guard.roles(*guard.READERS)
def sp_edit(sp_id: int):
    row = _sp_or_404(sp_id)
    form = EditSPForm()
    form.fill_choices()
    if request.method == "GET":
        form.name.data, form.attributes.data = row.name, list(row.attributes)
        form.sign_mode.data, form.encrypt.data = row.sign_mode, "yes" if row.encrypt else "no"
    if request.method == "POST" and form.validate():
        try:
            saml_sps.update_sp(row, name=form.name.data, attributes=form.wanted(),
                               sign_mode=form.sign_mode.data,
                               encrypt=form.encrypt.data == "yes", actor=actor_name(g.staff))
        except RegistrationError as exc:
            _refused(form, form.encrypt, exc)
        else:
            flash(_("Modifications enregistrées."), "info")
            return redirect(url_for("admin.sp_edit", sp_id=row.id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/clients/saml_edit.html", form=form, row=row,
                           refresh_form=RefreshForm(formdata=None),
                           action_form=EmptyForm()), status


@bp.post("/services/saml/<int:sp_id>/metadonnees")
@guard.roles(*guard.READERS)
def sp_refresh(sp_id: int):
    row = _sp_or_404(sp_id)
    refresh = RefreshForm()
    if refresh.validate():
        target = refresh.metadata_file if not refresh.metadata_url.data.strip() \
            else refresh.metadata_url
        try:
            xml = refresh.metadata_xml()
            parsed = parse_metadata(xml, current_app.config.get("SAML_METADATA_CERT"))
            if parsed.entity_id != row.entity_id:
                raise RegistrationError(_("ces métadonnées décrivent %(other)s, pas %(entity)s.",
                                          other=parsed.entity_id, entity=row.entity_id))
            register_sp(metadata=xml, attributes=list(row.attributes), sign_mode=row.sign_mode,
                        encrypt=row.encrypt, name=row.name, update=True,
                        actor=actor_name(g.staff))
        except RegistrationError as exc:
            _refused(refresh, target, exc)
        else:
            flash(_("Métadonnées mises à jour."), "info")
            return redirect(url_for("admin.sp_edit", sp_id=row.id))
    form = EditSPForm(formdata=None)
    form.fill_choices()
    form.name.data, form.attributes.data = row.name, list(row.attributes)
    form.sign_mode.data, form.encrypt.data = row.sign_mode, "yes" if row.encrypt else "no"
    return render_template("admin/clients/saml_edit.html", form=form, row=row,
                           refresh_form=refresh, action_form=EmptyForm()), 400


@bp.post("/services/saml/<int:sp_id>/etat")
@guard.roles(*guard.READERS)
def sp_toggle(sp_id: int):
    row = _sp_or_404(sp_id)
    if EmptyForm().validate_on_submit():
        registry.set_enabled(row.entity_id, not row.enabled, actor=actor_name(g.staff))
        flash(_("Service réactivé.") if row.enabled else
              _("Service désactivé : il ne reçoit plus rien à partir de maintenant."), "info")
    return redirect(url_for("admin.sp_edit", sp_id=row.id))
