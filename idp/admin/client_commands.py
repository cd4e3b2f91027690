"""`idp clients ...`: relying parties from the command line (register, list, edit,
disable, trust), the console's actions for automation. Attached to the `idp` group in
idp/cli.py; each command commits once at the end; --json prints machine-readable output.
The audit trail names the actor "cli"."""
from __future__ import annotations

import click

from ..cli_helpers import action_commands, app_context, commit, emit, fail
from ..oidc.clients import RegistrationError as OidcRegistrationError
from ..oidc.supported import AUTH_METHODS, SIGNING_ALGS
from ..saml.registry import RegistrationError as SamlRegistrationError
from ..saml.registry import SIGN_MODES, find_by_entity_id, register_sp, remove
from ..saml.registry import set_enabled as set_sp_enabled
from . import oidc_clients, saml_sps
from .trust import TrustError, set_trusted

ACTOR = "cli"


@click.group()
def clients():
    """Relying parties (OIDC clients, SAML service providers)."""


@clients.command("add-oidc")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--public", is_flag=True, help="No secret; PKCE required.")
@click.option("--post-logout-redirect-uri", "logout_uris", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option("--scope", "scopes", multiple=True)
@click.option("--token-auth-method",
              type=click.Choice(AUTH_METHODS))
@click.option("--jwks-uri")
@click.option("--pairwise", is_flag=True, help="Pairwise `sub` for this client.")
@click.option("--id-token-alg", type=click.Choice(SIGNING_ALGS), default=SIGNING_ALGS[0])
@click.option("--json", "as_json", is_flag=True)
def clients_add_oidc(name, redirect_uris, public, logout_uris, backchannel_logout_uri, scopes,
                     token_auth_method, jwks_uri, pairwise, id_token_alg, as_json):
    """Register an OpenID Connect client; prints client_id and, once, client_secret."""
    with app_context():
        try:
            reg = oidc_clients.register(actor=ACTOR,
                name=name, redirect_uris=list(redirect_uris), public=public,
                post_logout_redirect_uris=list(logout_uris),
                backchannel_logout_uri=backchannel_logout_uri, scopes=list(scopes) or None,
                token_auth_method=token_auth_method, jwks_uri=jwks_uri, pairwise=pairwise,
                id_token_alg=id_token_alg)
        except OidcRegistrationError as exc:
            fail(str(exc))
        commit()
        data = {"client_id": reg.row.client_id, "name": reg.row.name,
                "token_endpoint_auth_method": reg.row.token_endpoint_auth_method}
        if reg.client_secret:
            data["client_secret"] = reg.client_secret
        emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


@clients.command("add-saml")
@click.option("--metadata", required=True, help="SP metadata: a file or an https URL.")
@click.option("--attributes", required=True,
              help="A profile of config/saml_attributes.toml or a comma-separated list.")
@click.option("--sign", "sign_mode", type=click.Choice(SIGN_MODES),
              default="both", show_default=True)
@click.option("--encrypt/--no-encrypt", default=None,
              help="Encrypt assertions (default: when the metadata has an encryption key).")
@click.option("--name", help="Name shown to families (default: from the metadata).")
@click.option("--metadata-cert", help="PEM certificate the metadata must be signed with.")
@click.option("--update", is_flag=True, help="Refresh an SP already registered.")
@click.option("--json", "as_json", is_flag=True)
def clients_add_saml(metadata, attributes, sign_mode, encrypt, name, metadata_cert, update,
                     as_json):
    """Register a SAML service provider from its metadata."""
    with app_context():
        try:
            row = register_sp(metadata=metadata, attributes=attributes, sign_mode=sign_mode,
                              encrypt=encrypt, name=name, metadata_cert=metadata_cert,
                              update=update)
        except SamlRegistrationError as exc:
            fail(str(exc))
        commit()
        data = {"entity_id": row.entity_id, "name": row.name, "attributes": row.attributes,
                "sign": row.sign_mode, "encrypt": row.encrypt,
                "want_authn_requests_signed": row.want_authn_requests_signed}
        emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


def _saml_state(entity_id: str, action: str, as_json: bool) -> None:
    with app_context():
        try:
            if action == "remove":
                remove(entity_id)
            else:
                set_sp_enabled(entity_id, action == "enable")
        except SamlRegistrationError as exc:
            fail(str(exc))
        commit()
    emit({"entity_id": entity_id, "action": action}, as_json, f"{entity_id}: {action}d")


action_commands(clients, "entity_id", _saml_state, {
    "disable-saml": ("disable", "Disable a SAML SP: refused from its next request on."),
    "enable-saml": ("enable", "Enable a disabled SAML SP again."),
    "remove-saml": ("remove", "Remove a SAML SP (its metadata and registration)."),
})


@clients.command("trust")
@click.argument("rp_key")
@click.option("--no", "untrust", is_flag=True, help="Ask for consent again (undo).")
@click.option("--json", "as_json", is_flag=True)
def clients_trust(rp_key, untrust, as_json):
    """Mark a relying party (oidc:<client_id> or saml:<entity_id>) as the school's own
    service: families are not asked for consent (charter and notices still apply)."""
    with app_context():
        try:
            party = set_trusted(rp_key, not untrust)
        except TrustError as exc:
            fail(str(exc))
        commit()
        emit({"rp": party.key, "name": party.name, "trusted": not untrust}, as_json,
             f"{party.name}: {'trusted for the school' if not untrust else 'consent asked'}")


@clients.command("list")
@click.option("--json", "as_json", is_flag=True)
def clients_list(as_json):
    """Registered OIDC clients and SAML service providers."""
    with app_context():
        data = {"oidc": [oidc_clients.describe(r) for r in oidc_clients.list_clients()],
                "saml": [saml_sps.describe(r) for r in saml_sps.list_sps()]}
    emit(data, as_json, "\n".join(
        [f"oidc  {c['client_id']}  {c['name']}  {'enabled' if c['enabled'] else 'disabled'}"
         for c in data["oidc"]] +
        [f"saml  {s['entity_id']}  {s['name']}  {'enabled' if s['enabled'] else 'disabled'}"
         for s in data["saml"]]) or "no relying party")


def _listed(values) -> list[str] | None:
    return list(values) if values else None


@clients.command("edit-oidc")
@click.argument("client_id")
@click.option("--name")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Replaces the list.")
@click.option("--post-logout-redirect-uri", "logout_uris", multiple=True)
@click.option("--backchannel-logout-uri", help='"" to remove.')
@click.option("--scope", "scopes", multiple=True, help="Replaces the list.")
@click.option("--token-auth-method",
              type=click.Choice(AUTH_METHODS))
@click.option("--jwks-uri")
@click.option("--pairwise/--no-pairwise", default=None)
@click.option("--trusted/--ask-consent", default=None,
              help="The school's own service (no consent page), or ask for consent.")
@click.option("--id-token-alg", type=click.Choice(SIGNING_ALGS))
@click.option("--json", "as_json", is_flag=True)
def clients_edit_oidc(client_id, name, redirect_uris, logout_uris, backchannel_logout_uri,
                      scopes, token_auth_method, jwks_uri, pairwise, trusted, id_token_alg,
                      as_json):
    """Edit a client (unset options stay as they are); a new secret is printed once when
    the client becomes confidential."""
    with app_context():
        try:
            row, secret = oidc_clients.update_client(
                client_id, name=name, redirect_uris=_listed(redirect_uris),
                post_logout_redirect_uris=_listed(logout_uris),
                backchannel_logout_uri=backchannel_logout_uri, scopes=_listed(scopes),
                token_endpoint_auth_method=token_auth_method, jwks_uri=jwks_uri,
                pairwise=pairwise, trusted_for_school=trusted,
                id_token_signed_response_alg=id_token_alg, actor=ACTOR)
        except OidcRegistrationError as exc:
            fail(str(exc))
        commit()
        data = oidc_clients.describe(row) | ({"client_secret": secret} if secret else {})
        emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


def _client_action(client_id: str, action: str, as_json: bool) -> None:
    with app_context():
        data = {"client_id": client_id, "action": action}
        try:
            if action == "rotate-secret":
                _, data["client_secret"] = oidc_clients.rotate_secret(client_id, actor=ACTOR)
            else:
                oidc_clients.set_enabled(client_id, action == "enable", actor=ACTOR)
        except OidcRegistrationError as exc:
            fail(str(exc))
        commit()
    emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


action_commands(clients, "client_id", _client_action, {
    "disable-oidc": ("disable", "Disable an OIDC client: refused from its next request on."),
    "enable-oidc": ("enable", "Enable a disabled OIDC client again."),
    "rotate-secret": ("rotate-secret",
                      "A new client secret (printed once); the old one stops working at once."),
})


@clients.command("edit-saml")
@click.argument("entity_id")
@click.option("--name")
@click.option("--attributes", help="A profile or a comma-separated list (replaces).")
@click.option("--sign", "sign_mode", type=click.Choice(SIGN_MODES))
@click.option("--encrypt/--no-encrypt", default=None)
@click.option("--json", "as_json", is_flag=True)
def clients_edit_saml(entity_id, name, attributes, sign_mode, encrypt, as_json):
    """Edit an SP's name, released attributes, signing or encryption (no new metadata:
    for that, `idp clients add-saml --update`)."""
    with app_context():
        try:
            row = saml_sps.update_sp(find_by_entity_id(entity_id), name=name,
                                     attributes=attributes, sign_mode=sign_mode,
                                     encrypt=encrypt, actor=ACTOR)
        except SamlRegistrationError as exc:
            fail(str(exc))
        commit()
        data = saml_sps.describe(row)
        emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))

