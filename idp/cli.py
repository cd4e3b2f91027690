"""The `idp` command. Every subcommand has --help; those that report take --json."""
from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import click

from . import config as idp_config


def emit(data: dict, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def app_context():
    """An app context for commands that touch the database (commits at the end)."""
    from . import create_app
    from .config import ConfigError

    try:
        app = create_app()
    except (ConfigError, RuntimeError) as exc:
        fail(str(exc))
    return app.app_context()


def commit():
    from .db import db

    db.session.commit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Identity provider for French school families (OpenID Connect and SAML 2.0)."""


# -- database ---------------------------------------------------------------------------
@main.group()
def db():
    """Database schema."""


@db.command("upgrade")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def db_upgrade(as_json):
    """Create or migrate the database to the latest schema."""
    from .migrations import upgrade

    url = idp_config.load()["DATABASE_URL"]
    upgrade(url)
    emit({"database": url.split("@")[-1], "revision": "heads"}, as_json, "database is up to date")


# -- keys -------------------------------------------------------------------------------
@main.group()
def keys():
    """Signing keys and the app secret."""


def _ensure_secret(settings: dict) -> bool:
    path = Path(settings["SECRET_KEY_FILE"])
    if settings.get("SECRET_KEY") or path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_urlsafe(48))
    path.chmod(0o600)
    return True


@keys.command("generate")
@click.option("--json", "as_json", is_flag=True)
def keys_generate(as_json):
    """Create missing signing keys (RS256, ES256) and the app secret."""
    from .oidc.keys import generate

    settings = idp_config.load()
    secret = _ensure_secret(settings)
    created = generate(settings["KEYS_DIR"])
    from .saml.keys import generate as generate_saml_key

    saml_created = generate_saml_key(settings["KEYS_DIR"])  # SAML signing key + certificate
    emit({"created": [k.kid for k in created], "secret_created": secret,
          "saml_created": saml_created}, as_json,
         f"created {len(created)} key(s)" + (" and the app secret" if secret else "")
         + (" and the SAML signing key" if saml_created else ""))


@keys.command("rotate")
@click.option("--json", "as_json", is_flag=True)
def keys_rotate(as_json):
    """New signing keys; the previous public keys stay published for the grace period."""
    from .admin.signing_keys import rotate_signing_keys

    with app_context():
        new = rotate_signing_keys(actor="cli")  # audited, like the console's button
        commit()
    kids = [k["kid"] for k in new]
    emit({"active": kids}, as_json, "active keys: " + ", ".join(kids))


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
def keys_list(as_json):
    """Keys in the keyring with their state."""
    from .oidc.keys import read_index

    entries = read_index(Path(idp_config.load()["KEYS_DIR"]))
    rows = [{"kid": e.kid, "alg": e.alg, "state": "retired" if e.retired else "active",
             "created": e.created, "retired": e.retired} for e in entries]
    emit({"keys": rows}, as_json,
         "\n".join(f"{r['kid']}  {r['alg']}  {r['state']}" for r in rows) or "no keys")


# -- accounts ---------------------------------------------------------------------------
@main.group()
def accounts():
    """Family accounts."""


@accounts.command("create")
@click.option("--identifier", required=True)
@click.option("--password", required=True)
@click.option("--profile", type=click.Choice(["parent", "pupil"]), required=True)
@click.option("--academy", required=True, help="Academy code from config/academies.toml.")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option("--email")
@click.option("--active", is_flag=True, help="Ready to sign in (otherwise provisional).")
@click.option("--json", "as_json", is_flag=True)
def accounts_create(identifier, password, profile, academy, first_name, last_name, email,
                    active, as_json):
    """Create an account (for demos and tests)."""
    from .admin.accounts import AccountError, create_account

    with app_context():
        try:
            account = create_account(identifier=identifier, password=password, profile=profile,
                                     academy=academy, first_name=first_name,
                                     last_name=last_name, email=email, active=active)
        except AccountError as exc:
            fail(str(exc))
        commit()
        emit({"identifier": account.identifier, "id": account.public_id,
              "state": account.state.value}, as_json, f"created {account.identifier}")


# -- relying parties --------------------------------------------------------------------
@main.group()
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
              type=click.Choice(["client_secret_basic", "client_secret_post",
                                 "private_key_jwt", "none"]))
@click.option("--jwks-uri")
@click.option("--pairwise", is_flag=True, help="Pairwise `sub` for this client.")
@click.option("--id-token-alg", type=click.Choice(["RS256", "ES256"]), default="RS256")
@click.option("--json", "as_json", is_flag=True)
def clients_add_oidc(name, redirect_uris, public, logout_uris, backchannel_logout_uri, scopes,
                     token_auth_method, jwks_uri, pairwise, id_token_alg, as_json):
    """Register an OpenID Connect client; prints client_id and, once, client_secret."""
    from .admin.oidc_clients import register
    from .oidc.clients import RegistrationError

    with app_context():
        try:
            reg = register(actor="cli",
                name=name, redirect_uris=list(redirect_uris), public=public,
                post_logout_redirect_uris=list(logout_uris),
                backchannel_logout_uri=backchannel_logout_uri, scopes=list(scopes) or None,
                token_auth_method=token_auth_method, jwks_uri=jwks_uri, pairwise=pairwise,
                id_token_alg=id_token_alg)
        except RegistrationError as exc:
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
@click.option("--sign", "sign_mode", type=click.Choice(["response", "assertion", "both"]),
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
    from .saml.registry import RegistrationError, register_sp

    with app_context():
        try:
            row = register_sp(metadata=metadata, attributes=attributes, sign_mode=sign_mode,
                              encrypt=encrypt, name=name, metadata_cert=metadata_cert,
                              update=update)
        except RegistrationError as exc:
            fail(str(exc))
        commit()
        data = {"entity_id": row.entity_id, "name": row.name, "attributes": row.attributes,
                "sign": row.sign_mode, "encrypt": row.encrypt,
                "want_authn_requests_signed": row.want_authn_requests_signed}
        emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


def _saml_state(entity_id: str, action: str, as_json: bool) -> None:
    from .saml.registry import RegistrationError, remove, set_enabled

    with app_context():
        try:
            if action == "remove":
                remove(entity_id)
            else:
                set_enabled(entity_id, action == "enable")
        except RegistrationError as exc:
            fail(str(exc))
        commit()
    emit({"entity_id": entity_id, "action": action}, as_json, f"{entity_id}: {action}d")


@clients.command("disable-saml")
@click.argument("entity_id")
@click.option("--json", "as_json", is_flag=True)
def clients_disable_saml(entity_id, as_json):
    """Disable a SAML SP: refused from its next request on."""
    _saml_state(entity_id, "disable", as_json)


@clients.command("enable-saml")
@click.argument("entity_id")
@click.option("--json", "as_json", is_flag=True)
def clients_enable_saml(entity_id, as_json):
    """Enable a disabled SAML SP again."""
    _saml_state(entity_id, "enable", as_json)


@clients.command("remove-saml")
@click.argument("entity_id")
@click.option("--json", "as_json", is_flag=True)
def clients_remove_saml(entity_id, as_json):
    """Remove a SAML SP (its metadata and registration)."""
    _saml_state(entity_id, "remove", as_json)


@clients.command("trust")
@click.argument("rp_key")
@click.option("--no", "untrust", is_flag=True, help="Ask for consent again (undo).")
@click.option("--json", "as_json", is_flag=True)
def clients_trust(rp_key, untrust, as_json):
    """Mark a relying party (oidc:<client_id> or saml:<entity_id>) as the school's own
    service: families are not asked for consent (charter and notices still apply)."""
    from .admin.trust import TrustError, set_trusted

    with app_context():
        try:
            party = set_trusted(rp_key, not untrust)
        except TrustError as exc:
            fail(str(exc))
        commit()
        emit({"rp": party.key, "name": party.name, "trusted": not untrust}, as_json,
             f"{party.name}: {'trusted for the school' if not untrust else 'consent asked'}")


# -- charter and notices ----------------------------------------------------------------
@main.group()
def charter():
    """Charter of use: versions families accept before reaching a service."""


@charter.command("publish")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--rp", "rp_key", help="The RP's own charter: oidc:<client_id> or saml:<entity_id>.")
@click.option("--version", help="Default: the date in the file name (general-2026-09.md).")
@click.option("--json", "as_json", is_flag=True)
def charter_publish(file, rp_key, version, as_json):
    """Publish a charter version; every account accepts it at its next passage."""
    from .admin.charters import PublicationError, publish_charter

    with app_context():
        try:
            row, created = publish_charter(file, rp_key=rp_key, version=version)
        except PublicationError as exc:
            fail(str(exc))
        commit()
        emit({"audience": row.audience, "version": row.version, "title": row.title,
              "created": created}, as_json,
             f"{'published' if created else 'already published'}: {row.audience} {row.version}")


@charter.command("list")
@click.option("--json", "as_json", is_flag=True)
def charter_list(as_json):
    """Published versions, the current one of each audience first, with acceptances."""
    from .admin.charters import list_charters

    with app_context():
        rows = list_charters()
    emit({"charters": rows}, as_json, "\n".join(
        f"{r['audience']}  {r['version']}  {'current' if r['current'] else 'old'}  "
        f"{r['acceptances']} accepted  {r['title']}" for r in rows) or "no charter published")


@main.group()
def notices():
    """Relying parties' one-time notices (PRONOTE: "j'ai pris connaissance...")."""


@notices.command("publish")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--rp", "rp_key", required=True, help="oidc:<client_id> or saml:<entity_id>.")
@click.option("--version", help="Default: the date in the file name.")
@click.option("--json", "as_json", is_flag=True)
def notices_publish(file, rp_key, version, as_json):
    """Register an RP's notice; each account acknowledges it once (and each new version)."""
    from .admin.charters import PublicationError, publish_notice

    with app_context():
        try:
            row, created = publish_notice(file, rp_key=rp_key, version=version)
        except PublicationError as exc:
            fail(str(exc))
        commit()
        emit({"rp": row.rp_key, "version": row.version, "title": row.title,
              "created": created}, as_json,
             f"{'published' if created else 'already published'}: {row.rp_key} {row.version}")


@notices.command("list")
@click.option("--json", "as_json", is_flag=True)
def notices_list(as_json):
    """Registered notices with their acknowledgments."""
    from .admin.charters import list_notices

    with app_context():
        rows = list_notices()
    emit({"notices": rows}, as_json, "\n".join(
        f"{r['rp']}  {r['version']}  {'current' if r['current'] else 'old'}  "
        f"{r['acknowledgments']} acknowledged  {r['title']}" for r in rows) or "no notice")


# -- demo and server --------------------------------------------------------------------
@main.group()
def demo():
    """Demo data."""


@demo.command("load")
@click.option("--json", "as_json", is_flag=True)
def demo_load(as_json):
    """Academies, a school, demo families and the demo relying parties (idempotent)."""
    from .admin.demo import load_demo

    with app_context():
        summary = load_demo()
        commit()
    text = "demo data loaded; accounts: " + ", ".join(
        f"{a['identifier']} / {a['password']}" for a in summary["accounts"])
    if summary.get("signup"):  # J4: a family the schools know, without an account
        j4 = summary["signup"]
        text += (f"\n« Je n'ai pas de compte » (/inscription): {j4['last_name']} "
                 f"{j4['first_name']}, {j4['mobile']} (code on /dev/outbox), birth dates "
                 + ", ".join(f"{k} {v}" for k, v in j4["birth_dates"].items()))
    emit(summary, as_json, text)


@main.command("serve")
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Threads per worker (1: gunicorn's sync worker; more: threads that "
                   "overlap database and store round trips, with keep-alive connections "
                   "spread evenly over the workers).")
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
def serve(workers, threads, bind):
    """Production server (gunicorn)."""
    from .admin.serve import run_gunicorn
    from .config import ConfigError

    try:
        run_gunicorn(workers=workers, bind=bind, threads=threads)
    except (ConfigError, RuntimeError) as exc:
        fail(str(exc))



# -- school accounts: roster, letters, delivery worker, lifecycle ------------------------
from .roster.commands import lifecycle, roster, worker  # noqa: E402  (defined there)

main.add_command(roster)
main.add_command(worker)
main.add_command(lifecycle)


# -- administration (issue 8): staff, audit trail, RP edits, school support --------------
from .admin.commands import CLIENT_COMMANDS, audit, staff  # noqa: E402
from .admin.support_commands import ACCOUNT_COMMANDS  # noqa: E402

main.add_command(staff)
main.add_command(audit)
for _command in CLIENT_COMMANDS:
    clients.add_command(_command)
for _command in ACCOUNT_COMMANDS:
    accounts.add_command(_command)


# -- self-registration J4: what families declined, for the schools ----------------------
from .journeys.signup.commands import signup  # noqa: E402

main.add_command(signup)


if __name__ == "__main__":
    main()
