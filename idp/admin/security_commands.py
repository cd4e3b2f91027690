"""`idp security force-password-change` and `idp security campaigns`: forced password
change campaigns (issue 17, point 3; journeys/password_change/service.py). Attached to
the `idp` group in idp/cli.py."""
from __future__ import annotations

from datetime import date

import click

from ..cli_helpers import app_context, commit, emit, fail
from ..journeys.password_change import service
from ..models import AccountProfile


@click.group("security")
def security():
    """Security operations: forced password change campaigns."""


def _population(profile, academy, uai, changed_before) -> service.Population:
    try:
        before = date.fromisoformat(changed_before) if changed_before else None
    except ValueError:
        fail(f"--changed-before must be a date YYYY-MM-DD (got {changed_before!r})")
    return service.Population(AccountProfile(profile) if profile else None,
                              academy or None, uai.upper() if uai else None, before)


@security.command("force-password-change")
@click.option("--profile", type=click.Choice(["parent", "pupil"]),
              help="Only parents (représentants légaux) or only pupils.")
@click.option("--academy", help="Academy code, e.g. nancy-metz.")
@click.option("--uai", help="School code, e.g. 0540042A (its pupils and their parents).")
@click.option("--changed-before", metavar="YYYY-MM-DD",
              help="Only passwords last chosen before this date (UTC).")
@click.option("--dry-run", is_flag=True, help="Count, force nothing.")
@click.option("--json", "as_json", is_flag=True)
def force_password_change(profile, academy, uai, changed_before, dry_run, as_json):
    """Force the accounts selected to choose a new password at their next sign-in.
    Never-activated, deactivated, FranceConnect-only accounts and accounts already
    forced (not done yet) are left out."""
    population = _population(profile, academy, uai, changed_before)
    with app_context():
        counts = service.count(population)
        if dry_run:
            emit({"dry_run": True, "filters": population.as_dict(), **counts}, as_json,
                 f"would force {counts['accounts']} accounts "
                 f"({counts['parents']} parents, {counts['pupils']} pupils)")
            return
        campaign = service.force(population, by="cli")
        commit()
        emit({"campaign": campaign.id, "filters": population.as_dict(),
              "forced": campaign.forced, **counts}, as_json,
             f"campaign {campaign.id}: {campaign.forced} accounts must choose a new "
             f"password at their next sign-in")


@security.command("campaigns")
@click.option("--campaign", type=int, help="One campaign's progress.")
@click.option("--json", "as_json", is_flag=True)
def campaigns(campaign, as_json):
    """Progress of the forced password change campaigns: forced, done, remaining."""
    with app_context():
        rows = service.progress(campaign)
        text = "\n".join(f"campaign {r['campaign']} ({r['created_at']:%Y-%m-%d %H:%M}, "
                         f"{r['created_by']}): forced {r['forced']}, done {r['done']}, "
                         f"remaining {r['remaining']}" for r in rows) or "no campaign"
        emit({"campaigns": rows}, as_json, text)
