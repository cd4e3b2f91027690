"""`idp charter ...` and `idp notices ...`: the charter of use and the relying parties'
one-time notices. Attached to the `idp` group in idp/cli.py; each command commits once at
the end; --json prints machine-readable output."""
from __future__ import annotations

import click

from ..cli_helpers import app_context, commit, emit, fail
from .charters import (PublicationError, list_charters, list_notices, publish_charter,
                       publish_notice)


@click.group()
def charter():
    """Charter of use: versions families accept before reaching a service."""


@charter.command("publish")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--rp", "rp_key", help="The RP's own charter: oidc:<client_id> or saml:<entity_id>.")
@click.option("--version", help="Default: the date in the file name (general-2026-09.md).")
@click.option("--json", "as_json", is_flag=True)
def charter_publish(file, rp_key, version, as_json):
    """Publish a charter version; every account accepts it at its next passage."""
    _publish(publish_charter, "audience", "audience", file, rp_key, version, as_json)


def _publish(publish, label: str, attribute: str, file, rp_key, version, as_json) -> None:
    """Publish a charter or a notice version from `file`; says whether it was new."""
    with app_context():
        try:
            row, created = publish(file, rp_key=rp_key, version=version)
        except PublicationError as exc:
            fail(str(exc))
        commit()
        target = getattr(row, attribute)
        emit({label: target, "version": row.version, "title": row.title,
              "created": created}, as_json,
             f"{'published' if created else 'already published'}: {target} {row.version}")


@charter.command("list")
@click.option("--json", "as_json", is_flag=True)
def charter_list(as_json):
    """Published versions, the current one of each audience first, with acceptances."""
    with app_context():
        rows = list_charters()
    emit({"charters": rows}, as_json, "\n".join(
        f"{r['audience']}  {r['version']}  {'current' if r['current'] else 'old'}  "
        f"{r['acceptances']} accepted  {r['title']}" for r in rows) or "no charter published")


@click.group()
def notices():
    """Relying parties' one-time notices (PRONOTE: "j'ai pris connaissance...")."""


@notices.command("publish")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--rp", "rp_key", required=True, help="oidc:<client_id> or saml:<entity_id>.")
@click.option("--version", help="Default: the date in the file name.")
@click.option("--json", "as_json", is_flag=True)
def notices_publish(file, rp_key, version, as_json):
    """Register an RP's notice; each account acknowledges it once (and each new version)."""
    _publish(publish_notice, "rp", "rp_key", file, rp_key, version, as_json)


@notices.command("list")
@click.option("--json", "as_json", is_flag=True)
def notices_list(as_json):
    """Registered notices with their acknowledgments."""
    with app_context():
        rows = list_notices()
    emit({"notices": rows}, as_json, "\n".join(
        f"{r['rp']}  {r['version']}  {'current' if r['current'] else 'old'}  "
        f"{r['acknowledgments']} acknowledged  {r['title']}" for r in rows) or "no notice")
