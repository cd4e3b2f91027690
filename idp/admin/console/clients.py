"""Relying parties, OpenID Connect side: list, register, edit, enable/disable, rotate
the secret. A secret is shown once, on the page answering the POST that made it."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField

from ...oidc import supported
from ...oidc.clients import MAX_NAME, MAX_URI, RegistrationError, validate_client
from .. import oidc_clients, saml_sps
from ..staff import actor_name
from . import guard
from .blueprint import bp
from .forms import EmptyForm, MultiCheckboxField, lines

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
    """The settings of a client. The rules are idp.oidc.clients.validate_client's (the
    same for the CLI and for a registration or an edit): `validate` puts its French
    reasons beside the fields."""
    name = StringField(_l("Nom affiché aux familles"),
                       render_kw={"required": True, "maxlength": MAX_NAME})
    redirect_uris = TextAreaField(_l("Adresses de retour (une par ligne, exactes)"))
    post_logout_redirect_uris = TextAreaField(_l("Adresses après déconnexion (une par ligne)"))
    backchannel_logout_uri = StringField(_l("Adresse de déconnexion en arrière-plan"),
                                         render_kw={"maxlength": MAX_URI})
    scopes = MultiCheckboxField(_l("Informations transmises (scopes)"), choices=SCOPES,
                                default=list(supported.DEFAULT_SCOPES))
    token_endpoint_auth_method = RadioField(_l("Type de client et authentification"),
                                            choices=METHODS,
                                            default=supported.DEFAULT_AUTH_METHOD)
    jwks_uri = StringField(_l("Adresse des clés publiques du service (jwks_uri)"),
                           render_kw={"maxlength": MAX_URI})
    consent = RadioField(_l("Consentement"), default="ask", choices=[
        ("ask", _l("Demander le consentement des familles")),
        ("trusted", _l("Service de l'établissement : pas de page de consentement"))])
    pairwise = BooleanField(_l("Identifiant différent pour ce service (pairwise)"))
    id_token_alg = RadioField(_l("Signature des jetons d'identité"), default="RS256",
                              choices=[(alg, alg) for alg in supported.SIGNING_ALGS])

    # validate_client's field -> the form's field showing its reason.
    _FIELDS = {"public": "token_endpoint_auth_method", "jwks": "jwks_uri",
               "id_token_signed_response_alg": "id_token_alg"}

    def __init__(self, *args, row=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.row = row

    def values(self) -> dict:
        """The settings as validate_client and the services take them."""
        method = self.token_endpoint_auth_method.data
        return {"name": self.name.data or "", "redirect_uris": lines(self.redirect_uris.data),
                "post_logout_redirect_uris": lines(self.post_logout_redirect_uris.data),
                "backchannel_logout_uri": (self.backchannel_logout_uri.data or "").strip(),
                "scopes": list(self.scopes.data or []),
                "token_endpoint_auth_method": method, "public": method == "none",
                "jwks_uri": (self.jwks_uri.data or "").strip(),
                "jwks": self.row.jwks if self.row is not None else None,
                "pairwise": bool(self.pairwise.data),
                "id_token_signed_response_alg": self.id_token_alg.data}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        problems = validate_client(self.values(), self.row.id if self.row else None)
        for key, problem in problems.items():
            field = self[self._FIELDS.get(key, key)]
            if not field.errors:  # WTForms' own (an unknown choice) come first
                field.errors = list(field.errors) + [problem.shown()]
        return ok and not problems


def _refusal(exc: RegistrationError) -> str:
    """A refusal the form's validation did not see (another operator's change meanwhile),
    in French when the rules gave reasons."""
    return " ".join(p.shown() for p in exc.problems.values()) or str(exc)


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
        values = form.values()
        try:
            reg = oidc_clients.register(
                name=values["name"], redirect_uris=values["redirect_uris"],
                post_logout_redirect_uris=values["post_logout_redirect_uris"],
                backchannel_logout_uri=values["backchannel_logout_uri"],
                scopes=values["scopes"], public=values["public"],
                token_auth_method=values["token_endpoint_auth_method"],
                jwks_uri=values["jwks_uri"], pairwise=values["pairwise"],
                id_token_alg=values["id_token_signed_response_alg"],
                trusted=form.consent.data == "trusted", actor=_actor())
        except RegistrationError as exc:
            g.db_rollback = True  # nothing half-registered
            problem = _refusal(exc)
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
    form = ClientForm(row=row)
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
            values = form.values()
            del values["jwks"]  # not edited here
            row, secret = oidc_clients.update_client(
                row.client_id, **values,
                trusted_for_school=form.consent.data == "trusted", actor=_actor())
        except RegistrationError as exc:
            g.db_rollback = True
            problem = _refusal(exc)
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
