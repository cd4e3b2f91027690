"""`idp accounts ...`: create an account (demos, tests), and school support from the
command line: search a school's accounts, show one, unlock, reactivate with a new
deadline, resend the activation email (new letters: `idp roster letters --account`).
Attached to the `idp` group in idp/cli.py. The audit trail names the actor "cli"."""
from __future__ import annotations

import click

from ..cli_helpers import app_context, commit, emit, fail, password_options, read_password
from ..roster import UnknownSchool, find_school
from .accounts import AccountError, create_account
from .support import (SupportError, default_deadline, describe, find_by_identifier,
                      lock_reasons, reactivate, resend_activation, search, unlock)

ACTOR = "cli"


@click.group()
def accounts():
    """Family accounts."""


@accounts.command("create")
@click.option("--identifier", required=True)
@password_options
@click.option("--profile", type=click.Choice(["parent", "pupil"]), required=True)
@click.option("--academy", required=True, help="Academy code from config/academies.toml.")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option("--email")
@click.option("--active", is_flag=True, help="Ready to sign in (otherwise provisional).")
@click.option("--json", "as_json", is_flag=True)
def accounts_create(identifier, password, password_stdin, profile, academy, first_name,
                    last_name, email, active, as_json):
    """Create an account (for demos and tests). The password is asked (hidden), or read
    from standard input with --password-stdin."""
    password = read_password(password, password_stdin)
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


def _account(school_uai: str, identifier: str):
    """The account within the school (as in the console: another school's is not found)."""
    try:
        school = find_school(school_uai)
    except UnknownSchool:
        fail(f"unknown school {school_uai}")
    account = find_by_identifier(school, identifier)
    if account is None:
        fail(f"no account {identifier!r} in school {school.uai}")
    return account


@accounts.command("search")
@click.option("--school", "uai", required=True, help="UAI of the school.")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True)
def accounts_search(uai, query, as_json):
    """Accounts of a school whose identifier or names contain every word of QUERY."""
    with app_context():
        try:
            school = find_school(uai)
        except UnknownSchool:
            fail(f"unknown school {uai}")
        rows = [{"id": a.id, "identifier": a.identifier, "name": a.display_name,
                 "profile": a.profile.value, "state": a.state.value,
                 "locked": bool(lock_reasons(a)), "class_name": a.class_name}
                for a in search(school, query)]
    emit({"school": uai.upper(), "accounts": rows}, as_json, "\n".join(
        f"{r['identifier']}  {r['name']}  {r['profile']}  {r['state']}"
        f"{'  locked' if r['locked'] else ''}" for r in rows) or "no account")


@accounts.command("show")
@click.option("--school", "uai", required=True)
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def accounts_show(uai, identifier, as_json):
    """One account: state, lock, guardian links and declined links."""
    with app_context():
        data = describe(_account(uai, identifier))
    emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


@accounts.command("unlock")
@click.option("--school", "uai", required=True)
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def accounts_unlock(uai, identifier, as_json):
    """Clear the sign-in failure counter and the birth-date failures."""
    with app_context():
        was = unlock(_account(uai, identifier), actor=ACTOR)
        commit()
    emit({"identifier": identifier, "was_locked": was}, as_json,
             f"{identifier}: unlocked" + (f" (was: {', '.join(was)})" if was else ""))


@accounts.command("reactivate")
@click.option("--school", "uai", required=True)
@click.argument("identifier")
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d"]),
              help="New activation deadline, a day in Paris (default: today + the "
                   "activation window).")
@click.option("--json", "as_json", is_flag=True)
def accounts_reactivate(uai, identifier, deadline, as_json):
    """A deactivated account works again until the new deadline."""
    with app_context():
        account = _account(uai, identifier)
        when = deadline.date() if deadline else default_deadline()
        try:
            state = reactivate(account, when, actor=ACTOR)
        except SupportError as exc:
            fail(str(exc))
        commit()
    emit({"identifier": identifier, "state": state.value, "deadline": when.isoformat()},
             as_json, f"{identifier}: {state.value} until {when.isoformat()}")


@accounts.command("resend-activation")
@click.option("--school", "uai", required=True)
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def accounts_resend_activation(uai, identifier, as_json):
    """A new activation link to the email given at first connection."""
    with app_context():
        account = _account(uai, identifier)
        try:
            resend_activation(account, actor=ACTOR)
        except SupportError as exc:
            fail(str(exc))
        commit()
    emit({"identifier": identifier, "queued": True}, as_json,
             f"{identifier}: activation email queued")

