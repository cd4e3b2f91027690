"""`idp staff ...` and `idp audit ...`: the console's staff and audit actions for
automation. Attached in idp/cli.py; each command commits once at the end; --json prints
machine-readable output. The audit trail names the actor "cli"."""
from __future__ import annotations

import sys

import click

from ..audit import record
from ..cli_helpers import (action_commands, app_context, commit, emit, fail, password_options,
                           read_password)
from .audit_trail import AuditFilter, as_dict, export_csv, page
from .staff import StaffError, create_staff, list_staff, reset_totp, set_enabled

ACTOR = "cli"


# -- staff ------------------------------------------------------------------------------
@click.group()
def staff():
    """Staff accounts of the administration console (/admin)."""


@staff.command("create")
@click.option("--identifier", required=True)
@password_options  # 12+ characters, the house policy
@click.option("--role", type=click.Choice(["operator", "school_staff", "auditor"]),
              required=True)
@click.option("--school", "schools", multiple=True, help="UAI (school staff; repeatable).")
@click.option("--totp-now", is_flag=True,
              help="Make the TOTP secret now and print it once (otherwise: enrolment with "
                   "a QR code at the first console sign-in).")
@click.option("--json", "as_json", is_flag=True)
def staff_create(identifier, password, password_stdin, role, schools, totp_now, as_json):
    """Create a staff account (TOTP is required before any console page). The password
    (12+ characters) is asked (hidden), or read from standard input with --password-stdin."""
    password = read_password(password, password_stdin)
    with app_context():
        try:
            row, enrolment = create_staff(identifier=identifier, password=password, role=role,
                                          schools=list(schools), with_totp=totp_now,
                                          actor=ACTOR)
        except StaffError as exc:
            fail(str(exc))
        commit()
        data = {"identifier": row.identifier, "role": row.role.value,
                "schools": [s.uai for s in row.schools],
                "totp": "enrolled" if enrolment else "at first sign-in"}
        if enrolment:  # shown once: only hashes and a sealed secret are kept
            data["totp_uri"] = enrolment.uri
            data["recovery_codes"] = enrolment.recovery_codes
        text = "\n".join(f"{k}: {v}" for k, v in data.items())
        emit(data, as_json, text)


@staff.command("list")
@click.option("--json", "as_json", is_flag=True)
def staff_list(as_json):
    """Staff accounts with role, schools and TOTP state."""
    with app_context():
        rows = list_staff()
    emit({"staff": rows}, as_json, "\n".join(
        f"{r['identifier']}  {r['role']}  {'enabled' if r['enabled'] else 'disabled'}  "
        f"totp={'yes' if r['totp_enrolled'] else 'no'}  {' '.join(r['schools'])}"
        for r in rows) or "no staff account")


def _staff_action(identifier: str, action: str, as_json: bool) -> None:
    with app_context():
        try:
            if action == "reset-totp":
                reset_totp(identifier, actor=ACTOR)
            else:
                set_enabled(identifier, action == "enable", actor=ACTOR)
        except StaffError as exc:
            fail(str(exc))
        commit()
    emit({"identifier": identifier, "action": action}, as_json, f"{identifier}: {action}")


action_commands(staff, "identifier", _staff_action, {
    "disable": ("disable",
                "Disable a staff account: its console sessions end at their next request."),
    "enable": ("enable", "Enable a disabled staff account."),
    "reset-totp": ("reset-totp",
                   "Lost phone: forget the TOTP secret and recovery codes; enrol again"
                   " at sign-in."),
})


# -- audit ------------------------------------------------------------------------------
def _filters(action, actor, target, since, until):
    return AuditFilter(action=action, actor=actor, target=target,
                       since=since.date() if since else None,
                       until=until.date() if until else None)


def _filter_options(command):
    for option in reversed([
            click.option("--action", help="Exact action, or a prefix with * (staff_*)."),
            click.option("--actor"), click.option("--target"),
            click.option("--since", type=click.DateTime(["%Y-%m-%d"]),
                         help="YYYY-MM-DD, a day in Paris (inclusive)"),
            click.option("--until", type=click.DateTime(["%Y-%m-%d"]),
                         help="YYYY-MM-DD, a day in Paris (inclusive)")]):
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
    with app_context():
        events, _ = page(_filters(action, actor, target, since, until), size=limit)
        rows = [as_dict(e) for e in events]
    emit({"events": rows}, as_json, "\n".join(
        f"{r['at'][:19]}  {r['action']}  {r['actor'] or '-'}  {r['target'] or '-'}  "
        f"{r['ip'] or '-'}" for r in rows) or "no event")


@audit.command("export")
@_filter_options
@click.option("--out", type=click.Path(dir_okay=False), help="CSV file (default: stdout).")
def audit_export(action, actor, target, since, until, out):
    """Matching events as CSV (oldest first), streamed."""
    filters = _filters(action, actor, target, since, until)
    with app_context():
        record("audit_exported", actor=ACTOR, filters=filters.as_args())
        commit()
        fh = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
        try:
            for line in export_csv(filters):
                fh.write(line)
        finally:
            if out:
                fh.close()
