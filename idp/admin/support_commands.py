"""School support from the command line, added to `idp accounts`: search a school's
accounts, show one, unlock, reactivate with a new deadline, resend the activation email
(new letters: `idp roster letters --account`). The audit trail names the actor "cli"."""
from __future__ import annotations

import click

ACTOR = "cli"


def _cli():
    from .. import cli

    return cli


def _account(school_uai: str, identifier: str):
    """The account within the school (as in the console: another school's is not found)."""
    from ..roster import UnknownSchool, find_school
    from .support import find_by_identifier

    cli = _cli()
    try:
        school = find_school(school_uai)
    except UnknownSchool:
        cli.fail(f"unknown school {school_uai}")
    account = find_by_identifier(school, identifier)
    if account is None:
        cli.fail(f"no account {identifier!r} in school {school.uai}")
    return account


@click.command("search")
@click.option("--school", "uai", required=True, help="UAI of the school.")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True)
def accounts_search(uai, query, as_json):
    """Accounts of a school whose identifier or names contain every word of QUERY."""
    from ..roster import UnknownSchool, find_school
    from .support import lock_reasons, search

    cli = _cli()
    with cli.app_context():
        try:
            school = find_school(uai)
        except UnknownSchool:
            cli.fail(f"unknown school {uai}")
        rows = [{"id": a.id, "identifier": a.identifier, "name": a.display_name,
                 "profile": a.profile.value, "state": a.state.value,
                 "locked": bool(lock_reasons(a)), "class_name": a.class_name}
                for a in search(school, query)]
    cli.emit({"school": uai.upper(), "accounts": rows}, as_json, "\n".join(
        f"{r['identifier']}  {r['name']}  {r['profile']}  {r['state']}"
        f"{'  locked' if r['locked'] else ''}" for r in rows) or "no account")


@click.command("show")
@click.option("--school", "uai", required=True)
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def accounts_show(uai, identifier, as_json):
    """One account: state, lock, guardian links and declined links."""
    from .support import describe

    cli = _cli()
    with cli.app_context():
        data = describe(_account(uai, identifier))
    cli.emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


@click.command("unlock")
@click.option("--school", "uai", required=True)
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def accounts_unlock(uai, identifier, as_json):
    """Clear the sign-in failure counter and the birth-date failures."""
    from .support import unlock

    cli = _cli()
    with cli.app_context():
        was = unlock(_account(uai, identifier), actor=ACTOR)
        cli.commit()
    cli.emit({"identifier": identifier, "was_locked": was}, as_json,
             f"{identifier}: unlocked" + (f" (was: {', '.join(was)})" if was else ""))


@click.command("reactivate")
@click.option("--school", "uai", required=True)
@click.argument("identifier")
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d"]),
              help="New activation deadline (default: today + the activation window).")
@click.option("--json", "as_json", is_flag=True)
def accounts_reactivate(uai, identifier, deadline, as_json):
    """A deactivated account works again until the new deadline."""
    from .support import SupportError, default_deadline, reactivate

    cli = _cli()
    with cli.app_context():
        account = _account(uai, identifier)
        when = deadline.date() if deadline else default_deadline()
        try:
            state = reactivate(account, when, actor=ACTOR)
        except SupportError as exc:
            cli.fail(str(exc))
        cli.commit()
    cli.emit({"identifier": identifier, "state": state.value, "deadline": when.isoformat()},
             as_json, f"{identifier}: {state.value} until {when.isoformat()}")


@click.command("resend-activation")
@click.option("--school", "uai", required=True)
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def accounts_resend_activation(uai, identifier, as_json):
    """A new activation link to the email given at first connection."""
    from .support import SupportError, resend_activation

    cli = _cli()
    with cli.app_context():
        account = _account(uai, identifier)
        try:
            resend_activation(account, actor=ACTOR)
        except SupportError as exc:
            cli.fail(str(exc))
        cli.commit()
    cli.emit({"identifier": identifier, "queued": True}, as_json,
             f"{identifier}: activation email queued")


ACCOUNT_COMMANDS = (accounts_search, accounts_show, accounts_unlock, accounts_reactivate,
                    accounts_resend_activation)
