"""Charter versions: the published list and the publication of a new version from an
uploaded text file (the same rules as `idp charter publish`)."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ...relying_parties import enabled_parties
from ..charters import MAX_BYTES, PublicationError, list_charters, publish_charter
from ..staff import actor_name
from . import guard
from .blueprint import bp

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class PublishForm(FlaskForm):
    text_file = FileField(_l("Texte de la charte (fichier .md ou .txt en UTF-8)"))
    audience = SelectField(_l("Charte"), choices=[])
    version = StringField(_l("Version (par défaut : la date du nom du fichier, ex. 2026-09)"),
                          validators=[Optional(), Length(max=64, message=_l("64 caractères au plus."))])

    def validate_text_file(self, field):
        if not (field.data and getattr(field.data, "filename", "")):
            raise ValidationError(_l("Déposez le fichier du texte."))


def _audiences() -> list[tuple[str, str]]:
    return [("", _l("Charte générale (tous les services)"))] + [
        (p.key, _l("Charte propre à %(name)s", name=p.name)) for p in enabled_parties()]


@bp.route("/chartes", methods=["GET", "POST"])
@guard.roles(*guard.READERS)
def charters():
    form = PublishForm()
    form.audience.choices = _audiences()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            upload = form.text_file.data
            data = upload.read(MAX_BYTES + 1)
            name = SAFE_NAME.sub("-", Path(upload.filename).name)[:100] or "charte.md"
            try:
                # publish_charter reads a file: give it the upload under its own name, so
                # the version still defaults to the date in that name.
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / name
                    path.write_bytes(data)
                    row, created = publish_charter(
                        path, rp_key=form.audience.data or None,
                        version=(form.version.data or "").strip() or None,
                        actor=actor_name(g.staff))
                    row.source_path = f"console:{name}"
            except PublicationError as exc:
                g.db_rollback = True
                form.text_file.errors = [_("Publication refusée : %(reason)s",
                                           reason=str(exc).replace(str(path), name))]
            else:
                if created:
                    flash(_("Version %(version)s publiée : chaque compte l'acceptera à son "
                            "prochain passage.", version=row.version), "info")
                else:
                    flash(_("Cette version était déjà publiée avec ce texte."), "info")
                return redirect(url_for("admin.charters"))
    return render_template("admin/charters.html", form=form, charters=list_charters()), status
