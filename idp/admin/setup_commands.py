"""`idp db ...`, `idp keys ...`, `idp demo load` and `idp serve`: setting an instance up and
running it. Attached to the `idp` group in idp/cli.py; --json prints machine-readable
output."""
from __future__ import annotations

import secrets
from pathlib import Path

import click

from .. import config as idp_config
from ..cli_helpers import app_context, commit, emit, fail
from ..config import ConfigError
from ..migrations import upgrade
from ..oidc.keys import generate as generate_oidc_keys
from ..oidc.keys import read_index
from ..saml.keys import generate as generate_saml_key
from .demo import load_demo
from .serve import run_gunicorn
from .signing_keys import rotate_signing_keys


# -- database ---------------------------------------------------------------------------
# Named `database` in Python (beside idp.db.db, the SQLAlchemy handle); `idp db` on the
# command line.
@click.group("db")
def database():
    """Database schema."""


@database.command("upgrade")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def db_upgrade(as_json):
    """Create or migrate the database to the latest schema."""
    url = idp_config.load()["DATABASE_URL"]
    upgrade(url)
    emit({"database": url.split("@")[-1], "revision": "heads"}, as_json, "database is up to date")


# -- keys -------------------------------------------------------------------------------
@click.group()
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
    settings = idp_config.load()
    secret = _ensure_secret(settings)
    created = generate_oidc_keys(settings["KEYS_DIR"])
    saml_created = generate_saml_key(settings["KEYS_DIR"])  # SAML signing key + certificate
    emit({"created": [k.kid for k in created], "secret_created": secret,
          "saml_created": saml_created}, as_json,
         f"created {len(created)} key(s)" + (" and the app secret" if secret else "")
         + (" and the SAML signing key" if saml_created else ""))


@keys.command("rotate")
@click.option("--json", "as_json", is_flag=True)
def keys_rotate(as_json):
    """New signing keys; the previous public keys stay published for the grace period."""
    with app_context():
        new = rotate_signing_keys(actor="cli")  # audited, like the console's button
        commit()
    kids = [k["kid"] for k in new]
    emit({"active": kids}, as_json, "active keys: " + ", ".join(kids))


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
def keys_list(as_json):
    """Keys in the keyring with their state."""
    entries = read_index(Path(idp_config.load()["KEYS_DIR"]))
    rows = [{"kid": e.kid, "alg": e.alg, "state": "retired" if e.retired else "active",
             "created": e.created, "retired": e.retired} for e in entries]
    emit({"keys": rows}, as_json,
         "\n".join(f"{r['kid']}  {r['alg']}  {r['state']}" for r in rows) or "no keys")


# -- demo and server --------------------------------------------------------------------
@click.group()
def demo():
    """Demo data."""


@demo.command("load")
@click.option("--json", "as_json", is_flag=True)
def demo_load(as_json):
    """Academies, a school, demo families and the demo relying parties (idempotent)."""
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


@click.command("serve")
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Threads per worker (1: gunicorn's sync worker; more: its gthread "
                   "worker, threads that overlap database and store round trips).")
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
def serve(workers, threads, bind):
    """Production server (gunicorn)."""
    try:
        run_gunicorn(workers=workers, bind=bind, threads=threads)
    except (ConfigError, RuntimeError) as exc:
        fail(str(exc))
