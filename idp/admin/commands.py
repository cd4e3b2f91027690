"""`idp staff ...`, `idp audit ...` and the administration commands added to `idp clients`
and `idp accounts`: the console's actions for automation. Attached in idp/cli.py; each
command commits once at the end; --json prints machine-readable output. The audit trail
names the actor "cli"."""
from __future__ import annotations

import sys
from datetime import date

import click

ACTOR = "cli"


def _cli():
    from .. import cli  # the helpers of the main group (imported late: no cycle)

    return cli


# -- staff ------------------------------------------------------------------------------
@click.group()
def staff():
    """Staff accounts of the administration console (/admin)."""


@staff.command("create")
@click.option("--identifier", required=True)
@click.option("--password", required=True, help="12+ characters, the house policy.")
@click.option("--role", type=click.Choice(["operator", "school_staff", "auditor"]),
              required=True)
@click.option("--school", "schools", multiple=True, help="UAI (school staff; repeatable).")
@click.option("--totp-now", is_flag=True,
              help="Make the TOTP secret now and print it once (otherwise: enrolment with "
                   "a QR code at the first console sign-in).")
@click.option("--json", "as_json", is_flag=True)
def staff_create(identifier, password, role, schools, totp_now, as_json):
    """Create a staff account (TOTP is required before any console page)."""
    from .staff import StaffError, create_staff

    cli = _cli()
    with cli.app_context():
        try:
            row, enrolment = create_staff(identifier=identifier, password=password, role=role,
                                          schools=list(schools), with_totp=totp_now,
                                          actor=ACTOR)
        except StaffError as exc:
            cli.fail(str(exc))
        cli.commit()
        data = {"identifier": row.identifier, "role": row.role.value,
                "schools": [s.uai for s in row.schools],
                "totp": "enrolled" if enrolment else "at first sign-in"}
        if enrolment:  # shown once: only hashes and a sealed secret are kept
            data["totp_uri"] = enrolment.uri
            data["recovery_codes"] = enrolment.recovery_codes
        text = "\n".join(f"{k}: {v}" for k, v in data.items())
        cli.emit(data, as_json, text)


@staff.command("list")
@click.option("--json", "as_json", is_flag=True)
def staff_list(as_json):
    """Staff accounts with role, schools and TOTP state."""
    from .staff import list_staff

    cli = _cli()
    with cli.app_context():
        rows = list_staff()
    cli.emit({"staff": rows}, as_json, "\n".join(
        f"{r['identifier']}  {r['role']}  {'enabled' if r['enabled'] else 'disabled'}  "
        f"totp={'yes' if r['totp_enrolled'] else 'no'}  {' '.join(r['schools'])}"
        for r in rows) or "no staff account")


def _staff_action(identifier: str, action: str, as_json: bool) -> None:
    from .staff import StaffError, reset_totp, set_enabled

    cli = _cli()
    with cli.app_context():
        try:
            if action == "reset-totp":
                reset_totp(identifier, actor=ACTOR)
            else:
                set_enabled(identifier, action == "enable", actor=ACTOR)
        except StaffError as exc:
            cli.fail(str(exc))
        cli.commit()
    cli.emit({"identifier": identifier, "action": action}, as_json, f"{identifier}: {action}")


@staff.command("disable")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def staff_disable(identifier, as_json):
    """Disable a staff account: its console sessions end at their next request."""
    _staff_action(identifier, "disable", as_json)


@staff.command("enable")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def staff_enable(identifier, as_json):
    """Enable a disabled staff account."""
    _staff_action(identifier, "enable", as_json)


@staff.command("reset-totp")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def staff_reset_totp(identifier, as_json):
    """Lost phone: forget the TOTP secret and recovery codes; enrol again at sign-in."""
    _staff_action(identifier, "reset-totp", as_json)


# -- audit ------------------------------------------------------------------------------
def _filters(action, actor, target, since, until):
    from .audit_trail import AuditFilter

    return AuditFilter(action=action, actor=actor, target=target,
                       since=since.date() if since else None,
                       until=until.date() if until else None)


def _filter_options(command):
    for option in reversed([
            click.option("--action", help="Exact action, or a prefix with * (staff_*)."),
            click.option("--actor"), click.option("--target"),
            click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD"),
            click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")]):
        command = option(command)
    return command


@click.group()
def audit():
    """The audit trail: who did what, when, from where."""


@audit.command("list")
@_filter_options
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
def audit_list(action, actor, target, since, until, limit, as_json):
    """The newest matching events."""
    from .audit_trail import as_dict, page

    cli = _cli()
    with cli.app_context():
        events, _ = page(_filters(action, actor, target, since, until), size=limit)
        rows = [as_dict(e) for e in events]
    cli.emit({"events": rows}, as_json, "\n".join(
        f"{r['at'][:19]}  {r['action']}  {r['actor'] or '-'}  {r['target'] or '-'}  "
        f"{r['ip'] or '-'}" for r in rows) or "no event")


@audit.command("export")
@_filter_options
@click.option("--out", type=click.Path(dir_okay=False), help="CSV file (default: stdout).")
def audit_export(action, actor, target, since, until, out):
    """Matching events as CSV (oldest first), streamed."""
    from ..audit import record
    from .audit_trail import export_csv

    cli = _cli()
    filters = _filters(action, actor, target, since, until)
    with cli.app_context():
        record("audit_exported", actor=ACTOR, filters=filters.as_args())
        cli.commit()
        fh = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
        try:
            for line in export_csv(filters):
                fh.write(line)
        finally:
            if out:
                fh.close()


# -- relying parties (added to `idp clients`) -------------------------------------------
@click.command("list")
@click.option("--json", "as_json", is_flag=True)
def clients_list(as_json):
    """Registered OIDC clients and SAML service providers."""
    from . import oidc_clients, saml_sps

    cli = _cli()
    with cli.app_context():
        data = {"oidc": [oidc_clients.describe(r) for r in oidc_clients.list_clients()],
                "saml": [saml_sps.describe(r) for r in saml_sps.list_sps()]}
    cli.emit(data, as_json, "\n".join(
        [f"oidc  {c['client_id']}  {c['name']}  {'enabled' if c['enabled'] else 'disabled'}"
         for c in data["oidc"]] +
        [f"saml  {s['entity_id']}  {s['name']}  {'enabled' if s['enabled'] else 'disabled'}"
         for s in data["saml"]]) or "no relying party")


def _listed(values) -> list[str] | None:
    return list(values) if values else None


@click.command("edit-oidc")
@click.argument("client_id")
@click.option("--name")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Replaces the list.")
@click.option("--post-logout-redirect-uri", "logout_uris", multiple=True)
@click.option("--backchannel-logout-uri", help='"" to remove.')
@click.option("--scope", "scopes", multiple=True, help="Replaces the list.")
@click.option("--token-auth-method",
              type=click.Choice(["client_secret_basic", "client_secret_post",
                                 "private_key_jwt", "none"]))
@click.option("--jwks-uri")
@click.option("--pairwise/--no-pairwise", default=None)
@click.option("--trusted/--ask-consent", default=None,
              help="The school's own service (no consent page), or ask for consent.")
@click.option("--id-token-alg", type=click.Choice(["RS256", "ES256"]))
@click.option("--json", "as_json", is_flag=True)
def clients_edit_oidc(client_id, name, redirect_uris, logout_uris, backchannel_logout_uri,
                      scopes, token_auth_method, jwks_uri, pairwise, trusted, id_token_alg,
                      as_json):
    """Edit a client (unset options stay as they are); a new secret is printed once when
    the client becomes confidential."""
    from ..oidc.clients import RegistrationError
    from .oidc_clients import describe, update_client

    cli = _cli()
    with cli.app_context():
        try:
            row, secret = update_client(
                client_id, name=name, redirect_uris=_listed(redirect_uris),
                post_logout_redirect_uris=_listed(logout_uris),
                backchannel_logout_uri=backchannel_logout_uri, scopes=_listed(scopes),
                token_endpoint_auth_method=token_auth_method, jwks_uri=jwks_uri,
                pairwise=pairwise, trusted_for_school=trusted,
                id_token_signed_response_alg=id_token_alg, actor=ACTOR)
        except RegistrationError as exc:
            cli.fail(str(exc))
        cli.commit()
        data = describe(row) | ({"client_secret": secret} if secret else {})
        cli.emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


def _client_action(client_id: str, action: str, as_json: bool) -> None:
    from ..oidc.clients import RegistrationError
    from .oidc_clients import rotate_secret, set_enabled

    cli = _cli()
    with cli.app_context():
        data = {"client_id": client_id, "action": action}
        try:
            if action == "rotate-secret":
                _, data["client_secret"] = rotate_secret(client_id, actor=ACTOR)
            else:
                set_enabled(client_id, action == "enable", actor=ACTOR)
        except RegistrationError as exc:
            cli.fail(str(exc))
        cli.commit()
    cli.emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


@click.command("disable-oidc")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
def clients_disable_oidc(client_id, as_json):
    """Disable an OIDC client: refused from its next request on."""
    _client_action(client_id, "disable", as_json)


@click.command("enable-oidc")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
def clients_enable_oidc(client_id, as_json):
    """Enable a disabled OIDC client again."""
    _client_action(client_id, "enable", as_json)


@click.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
def clients_rotate_secret(client_id, as_json):
    """A new client secret (printed once); the old one stops working at once."""
    _client_action(client_id, "rotate-secret", as_json)


@click.command("edit-saml")
@click.argument("entity_id")
@click.option("--name")
@click.option("--attributes", help="A profile or a comma-separated list (replaces).")
@click.option("--sign", "sign_mode", type=click.Choice(["response", "assertion", "both"]))
@click.option("--encrypt/--no-encrypt", default=None)
@click.option("--json", "as_json", is_flag=True)
def clients_edit_saml(entity_id, name, attributes, sign_mode, encrypt, as_json):
    """Edit an SP's name, released attributes, signing or encryption (no new metadata:
    for that, `idp clients add-saml --update`)."""
    from ..saml.registry import RegistrationError
    from .saml_sps import describe, find_by_entity_id, update_sp

    cli = _cli()
    with cli.app_context():
        try:
            row = update_sp(find_by_entity_id(entity_id), name=name, attributes=attributes,
                            sign_mode=sign_mode, encrypt=encrypt, actor=ACTOR)
        except RegistrationError as exc:
            cli.fail(str(exc))
        cli.commit()
        data = describe(row)
        cli.emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


CLIENT_COMMANDS = (clients_list, clients_edit_oidc, clients_disable_oidc, clients_enable_oidc,
                   clients_rotate_secret, clients_edit_saml)
