"""`idp db ...`, `idp demo load` and `idp serve`: setting an instance up and running it
(`idp keys ...`: key_commands.py). Attached to the `idp` group in idp/cli.py; --json
prints machine-readable output."""
from __future__ import annotations

import click

from .. import config as idp_config
from ..cli_helpers import app_context, commit, emit, fail
from ..config import ConfigError
from ..migrations import upgrade
from .demo import load_demo
from .serve import run_gunicorn


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
    if summary.get("franceconnect") and summary.get("signup"):  # J4b, with the stand-in
        fc = summary["franceconnect"]
        text += (f"\n« S'identifier avec FranceConnect »: Nadia Benali in the stand-in, then "
                 f"{summary['signup']['mobile']} and the same birth dates; or "
                 f"{fc['identity']}, {fc['mobile']}, "
                 + ", ".join(f"{k} {v}" for k, v in fc["birth_dates"].items()))
    emit(summary, as_json, text)


@click.command("serve")
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Threads per worker (1: gunicorn's sync worker; more: its gthread "
                   "worker, threads that overlap database and store round trips).")
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="gunicorn's access log (JSON lines on stderr, with the request id).")
def serve(workers, threads, bind, access_log):
    """Production server (gunicorn)."""
    try:
        run_gunicorn(workers=workers, bind=bind, threads=threads, access_log=access_log)
    except (ConfigError, RuntimeError) as exc:
        fail(str(exc))
