"""Relying parties, OpenID Connect side: list, register, edit, enable/disable, rotate
the secret. A secret is shown once, on the page answering the POST that made it."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from ...oidc import supported
from ...oidc.clients import RegistrationError
from .. import oidc_clients, saml_sps
from ..staff import actor_name
from . import guard
from .blueprint import bp
from .forms import (EmptyForm, MultiCheckboxField, check_optional_uri, check_uri_lines,
                    lines)

# Labels of what oidc/supported.py lists (the one source of scopes and methods).
_SCOPE_LABELS = {
    "openid": _l("openid — identifiant de la personne (obligatoire)"),
    "profile": _l("profile — nom, prénom"),
    "email": _l("email — adresse électronique vérifiée"),
    "education": _l("education — profil, établissement, classe, élèves rattachés"),
    "offline_access": _l("offline_access — jeton de rafraîchissement")}
_METHOD_LABELS = {
    "client_secret_basic": _l("Confidentiel : secret (HTTP Basic)"),
    "client_secret_post": _l("Confidentiel : secret (dans le formulaire)"),
    "private_key_jwt": _l("Confidentiel : JWT signé par sa clé (private_key_jwt)"),
    "none": _l("Public (application mobile ou navigateur) : PKCE, sans secret")}
SCOPES = [(scope, _SCOPE_LABELS[scope]) for scope in supported.SCOPES]
METHODS = [(method, _METHOD_LABELS[method]) for method in supported.AUTH_METHODS]


class ClientForm(FlaskForm):
    name = StringField(_l("Nom affiché aux familles"), validators=[
        InputRequired(_l("Donnez un nom au service.")),
        Length(max=120, message=_l("120 caractères au plus."))])
    redirect_uris = TextAreaField(_l("Adresses de retour (une par ligne, exactes)"),
                                  validators=[check_uri_lines(required=True)])
    post_logout_redirect_uris = TextAreaField(
        _l("Adresses après déconnexion (une par ligne)"), validators=[check_uri_lines(False)])
    backchannel_logout_uri = StringField(_l("Adresse de déconnexion en arrière-plan"),
                                         validators=[check_optional_uri, Length(max=500)])
    scopes = MultiCheckboxField(_l("Informations transmises (scopes)"), choices=SCOPES,
                                default=list(supported.DEFAULT_SCOPES))
    token_endpoint_auth_method = RadioField(_l("Type de client et authentification"),
                                            choices=METHODS,
                                            default=supported.DEFAULT_AUTH_METHOD)
    jwks_uri = StringField(_l("Adresse des clés publiques du service (jwks_uri)"),
                           validators=[check_optional_uri, Length(max=500)])
    consent = RadioField(_l("Consentement"), default="ask", choices=[
        ("ask", _l("Demander le consentement des familles")),
        ("trusted", _l("Service de l'établissement : pas de page de consentement"))])
    pairwise = BooleanField(_l("Identifiant différent pour ce service (pairwise)"))
    id_token_alg = RadioField(_l("Signature des jetons d'identité"), default="RS256",
                              choices=[(alg, alg) for alg in supported.SIGNING_ALGS])

    def __init__(self, *args, client_row_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.client_row_id = client_row_id

    def validate_name(self, field):
        if oidc_clients.name_taken(field.data or "", self.client_row_id):
            raise ValidationError(_l("Un service porte déjà ce nom : choisissez-en un autre."))

    def validate_scopes(self, field):
        if "openid" not in (field.data or []):
            raise ValidationError(_l("Le scope openid est obligatoire."))

    def validate_jwks_uri(self, field):
        if self.token_endpoint_auth_method.data == "private_key_jwt" and not \
                (field.data or "").strip():
            raise ValidationError(_l("Indiquez l'adresse des clés publiques du service."))

    def options(self) -> dict:
        return {"name": self.name.data.strip(), "redirect_uris": lines(self.redirect_uris.data),
                "post_logout_redirect_uris": lines(self.post_logout_redirect_uris.data),
                "backchannel_logout_uri": (self.backchannel_logout_uri.data or "").strip(),
                "scopes": list(self.scopes.data),
                "jwks_uri": (self.jwks_uri.data or "").strip(),
                "pairwise": bool(self.pairwise.data)}


def _actor() -> str:
    return actor_name(g.staff)


def _client_or_404(client_id: str):
    try:
        return oidc_clients.require_client(client_id)
    except RegistrationError:
        abort(404)


@bp.get("/services")
@guard.roles(*guard.READERS)
def clients():
    return render_template("admin/clients/list.html", oidc=oidc_clients.list_clients(),
                           saml=saml_sps.list_sps())


@bp.route("/services/oidc/nouveau", methods=["GET", "POST"])
@guard.roles(*guard.READERS)
def client_new():
    form, status, problem = ClientForm(), 200, None
    if request.method == "POST" and form.validate():
        options = form.options()
        method = form.token_endpoint_auth_method.data
        try:
            reg = oidc_clients.register(
                **options | {"backchannel_logout_uri": options["backchannel_logout_uri"] or None,
                             "jwks_uri": options["jwks_uri"] or None},
                public=method == "none", token_auth_method=method,
                id_token_alg=form.id_token_alg.data, trusted=form.consent.data == "trusted",
                actor=_actor())
        except RegistrationError as exc:
            g.db_rollback = True  # nothing half-registered
            problem = str(exc)
        else:
            return render_template("admin/clients/secret.html", row=reg.row,
                                   secret=reg.client_secret, created=True)
    if request.method == "POST":
        status = 400
    return render_template("admin/clients/oidc_form.html", form=form, row=None,
                           problem=problem), status


@bp.route("/services/oidc/<client_id>", methods=["GET", "POST"])
@guard.roles(*guard.READERS)
def client_edit(client_id: str):
    row = _client_or_404(client_id)
    form = ClientForm(client_row_id=row.id)
    if request.method == "GET":
        form.name.data = row.name
        form.redirect_uris.data = "\n".join(row.redirect_uris)
        form.post_logout_redirect_uris.data = "\n".join(row.post_logout_redirect_uris or [])
        form.backchannel_logout_uri.data = row.backchannel_logout_uri or ""
        form.scopes.data = list(row.scopes)
        form.token_endpoint_auth_method.data = row.token_endpoint_auth_method
        form.jwks_uri.data = row.jwks_uri or ""
        form.consent.data = "trusted" if row.trusted_for_school else "ask"
        form.pairwise.data = row.pairwise
        form.id_token_alg.data = row.id_token_signed_response_alg
    status, problem = 200, None
    if request.method == "POST" and form.validate():
        try:
            row, secret = oidc_clients.update_client(
                row.client_id, **form.options(),
                token_endpoint_auth_method=form.token_endpoint_auth_method.data,
                id_token_signed_response_alg=form.id_token_alg.data,
                trusted_for_school=form.consent.data == "trusted", actor=_actor())
        except RegistrationError as exc:
            g.db_rollback = True
            problem = str(exc)
        else:
            if secret:
                return render_template("admin/clients/secret.html", row=row, secret=secret,
                                       created=False)
            flash(_("Modifications enregistrées."), "info")
            return redirect(url_for("admin.client_edit", client_id=row.client_id))
    if request.method == "POST":
        status = 400
    return render_template("admin/clients/oidc_form.html", form=form, row=row,
                           problem=problem, action_form=EmptyForm()), status


@bp.post("/services/oidc/<client_id>/etat")
@guard.roles(*guard.READERS)
def client_toggle(client_id: str):
    row = _client_or_404(client_id)
    if EmptyForm().validate_on_submit():
        oidc_clients.set_enabled(row.client_id, not row.enabled, actor=_actor())
        flash(_("Service réactivé.") if row.enabled else
              _("Service désactivé : il ne reçoit plus rien à partir de maintenant."), "info")
    return redirect(url_for("admin.client_edit", client_id=row.client_id))


@bp.post("/services/oidc/<client_id>/secret")
@guard.roles(*guard.READERS)
def client_rotate_secret(client_id: str):
    row = _client_or_404(client_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.client_edit", client_id=row.client_id))
    try:
        row, secret = oidc_clients.rotate_secret(row.client_id, actor=_actor())
    except RegistrationError:
        flash(_("Ce service s'authentifie sans secret."), "error")
        return redirect(url_for("admin.client_edit", client_id=row.client_id))
    return render_template("admin/clients/secret.html", row=row, secret=secret, created=False)
