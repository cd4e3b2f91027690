"""`idp keys ...`: the signing keys in the database, for every node at once.

Each command prints one line per fact (or JSON with --json) and exits 0; anything that
stops it (no keys yet, a key-encryption key missing or wrong, an altered row, another
node changing the keys at the same moment, the database or the store unreachable)
prints one line `error: ...` on stderr and exits 1, with nothing changed.
"""
from __future__ import annotations

import secrets
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from .. import config as idp_config
from .. import secret_settings
from ..cli_helpers import app_context, commit, emit, fail
from ..keys import KeyChangeConflict, KeysUnavailable
from ..keys.importer import ImportProblem
from ..keys.sealing import new_key_encryption_key
from ..migrations import upgrade
from ..store import StoreUnavailable
from .signing_keys import (activate_saml, all_keys, generate_signing_keys,
                           import_signing_keys, reencrypt_signing_keys, rotate_saml,
                           rotate_signing_keys)

ACTOR = "cli"
_STOPS = (KeysUnavailable, KeyChangeConflict, ImportProblem)


@click.group()
def keys():
    """Signing keys (in the database, for every node), the app secret and the
    key-encryption key."""


def _run(work):
    """work() in an app context, committed; its result. One-line failures."""
    try:
        with app_context():
            result = work()
            try:
                commit()
            except StoreUnavailable:
                fail("keys changed, but the store could not be told: the other nodes "
                     "reload them within 30 s")
            return result
    except _STOPS as exc:
        fail(str(exc))
    except StoreUnavailable as exc:
        fail(f"store unreachable, nothing changed ({exc})")
    except SQLAlchemyError as exc:
        fail(f"database unreachable or not migrated (`idp db upgrade`): "
             f"{type(exc).__name__}, nothing changed")


def _private_file(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(0o600)


def _development_secrets(settings: dict) -> list[str]:
    """The app secret and the key-encryption key files of a development checkout, when
    not set; what was made. Outside a local issuer nothing is made (start-up refuses)."""
    made = []
    secret_file = Path(settings["SECRET_KEY_FILE"])
    if not settings.get("SECRET_KEY") and not secret_file.exists():
        _private_file(secret_file, secrets.token_urlsafe(48))
        made.append("the app secret")
    kek_file = Path(settings["KEY_ENCRYPTION_KEY_FILE"])
    if not settings.get("KEY_ENCRYPTION_KEY") and idp_config._is_local(settings["ISSUER"]) \
            and not kek_file.exists():
        _private_file(kek_file, new_key_encryption_key())
        made.append(f"the key-encryption key ({kek_file})")
    if idp_config._is_local(settings["ISSUER"]):  # TOTP sealing keys, SMS-code key, salt
        made += secret_settings.make_development_files(settings)
    return made


@keys.command("generate")
@click.option("--json", "as_json", is_flag=True)
def keys_generate(as_json):
    """Create the signing keys missing from the database (RS256, ES256, SAML), after
    bringing the schema up to date; in development, also the files under var/ of the app
    secret, the key-encryption key, the TOTP sealing keys, the SMS-code key and the
    pairwise salt."""
    made = _development_secrets(idp_config.load())
    settings = idp_config.load()
    try:
        idp_config.validate(settings)  # before the schema is touched
    except idp_config.ConfigError as exc:
        fail(str(exc))
    try:
        upgrade(settings["DATABASE_URL"])
    except SQLAlchemyError as exc:
        fail(f"database unreachable: {type(exc).__name__}")
    created = _run(lambda: generate_signing_keys(actor=ACTOR))
    kids = [k["kid"] for k in created]
    text = (f"created {len(kids)} signing key(s) in the database: {', '.join(kids)}" if kids
            else "the database already holds every signing key")
    emit({"created": kids, "secrets_created": made}, as_json,
         text + "".join(f"\ncreated {what}" for what in made))


@keys.command("rotate")
@click.option("--saml", is_flag=True,
              help="Publish the next SAML certificate in the metadata (it does not sign "
                   "until `idp keys activate --saml`).")
@click.option("--json", "as_json", is_flag=True)
def keys_rotate(saml, as_json):
    """OIDC (default): new RS256 and ES256 keys, in every node's JWKS at once and signing
    2 s later everywhere; the previous public keys stay published for KEY_GRACE_DAYS.
    --saml: the first step of the SAML rollover."""
    if saml:
        row = _run(lambda: rotate_saml(actor=ACTOR))
        emit(row, as_json,
             f"SAML: next certificate {row['kid']} published in the metadata "
             f"(SHA-256 {row['certificate']['sha256']}); it signs after "
             "`idp keys activate --saml`, once the SPs have refreshed our metadata")
        return
    new = _run(lambda: rotate_signing_keys(actor=ACTOR))
    emit({"active": [k["kid"] for k in new], "signs_from": new[0]["signs_from"]}, as_json,
         "active keys: " + ", ".join(k["kid"] for k in new)
         + f" (published now, signing from {new[0]['signs_from']})")


@keys.command("activate")
@click.option("--saml", is_flag=True, default=True, show_default=True,
              help="The SAML next certificate (the only kind that has a next state).")
@click.option("--json", "as_json", is_flag=True)
def keys_activate(saml, as_json):
    """SAML rollover, second step: the next certificate (published by `idp keys rotate
    --saml`) signs, on every node 2 s from now; the previous one stays in the metadata
    for KEY_GRACE_DAYS."""
    row = _run(lambda: activate_saml(actor=ACTOR))
    emit(row, as_json, f"SAML: {row['kid']} signs from {row['signs_from']} "
                       f"(SHA-256 {row['certificate']['sha256']})")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
def keys_list(as_json):
    """Published keys, newest first: purpose, kid, algorithm, state and dates."""
    rows = _run(all_keys)
    lines = [f"{r['purpose']}  {r['kid']}  {r['alg']}  {r['state']}"
             + (f"  signs from {r['signs_from']}" if r["state"] == "active" else "")
             + (f"  published until {r['published_until']}" if r["published_until"] else "")
             for r in rows]
    emit({"keys": rows}, as_json,
         "\n".join(lines) or "no signing keys in the database yet: run `idp keys generate`")


@keys.command("import")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True)
def keys_import(directory, as_json):
    """Move the keys of a former keys/ directory (keyring.json, its PEM files and
    saml/idp-signing.key + .crt) into the database, keeping their kids and states.
    DIRECTORY defaults to KEYS_DIR (keys/)."""
    source = directory or idp_config.load()["KEYS_DIR"]
    report = _run(lambda: import_signing_keys(source, actor=ACTOR))
    lines = [f"imported {r['purpose']} {r['kid']} ({r['state']})" for r in report["imported"]]
    lines += [f"skipped {r['purpose']} {r['kid']}: {r['reason']}" for r in report["skipped"]]
    emit(report, as_json, "\n".join(lines) or f"no keys found in {source}")


@keys.command("encryption-key")
def keys_encryption_key():
    """Print a new key-encryption key (for IDP_KEY_ENCRYPTION_KEY); nothing is stored."""
    click.echo(new_key_encryption_key())


@keys.command("reencrypt")
@click.option("--json", "as_json", is_flag=True)
def keys_reencrypt(as_json):
    """Seal every key again with the first IDP_KEY_ENCRYPTION_KEY (after putting a new
    one first on every node); the older ones can then be removed."""
    count = _run(lambda: reencrypt_signing_keys(actor=ACTOR))
    emit({"reencrypted": count}, as_json,
         f"{count} signing key(s) sealed with the first key-encryption key")
