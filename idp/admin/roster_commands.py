"""`idp roster ...`: schools, roster imports and notification letters. Attached to the
`idp` group in idp/cli.py; each command commits once at the end; --json prints
machine-readable output."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from ..cli_helpers import app_context, commit, emit, fail
from ..roster.importer import UnknownSchool, find_school, import_roster
from ..roster.letters import LetterError, issue_letters
from ..roster.schools import SchoolError, upsert_school


@click.group()
def roster():
    """School rosters and notification letters."""


@roster.command("add-school")
@click.option("--uai", required=True, help="School code, e.g. 0540042A.")
@click.option("--name", required=True)
@click.option("--academy", required=True, help="Academy code from config/academies.toml.")
@click.option("--level", type=click.Choice(["1d", "2d"]), default="2d", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def add_school(uai, name, academy, level, as_json):
    """Create or update a school (before its first roster import)."""
    with app_context():
        try:
            school = upsert_school(uai, name, academy, level)
        except SchoolError as exc:
            fail(str(exc))
        commit()
        emit({"uai": school.uai, "name": school.name, "academy": school.academy_code},
                 as_json, f"school {school.uai} {school.name}")


@roster.command("import")
@click.option("--school", "uai", required=True, help="UAI of the school.")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@click.option("--json", "as_json", is_flag=True)
def import_cmd(uai, csv_file, dry_run, as_json):
    """Import a school's CSV (pupils, representatives): idempotent, with a report."""
    data = Path(csv_file).read_bytes()
    with app_context():
        try:
            report = import_roster(uai, data, dry_run=dry_run, actor="cli",
                                   file_name=Path(csv_file).name)
        except UnknownSchool:
            fail(f"unknown school {uai}: create it with `idp roster add-school`")
        if report.ok and not dry_run:
            commit()
        lines = [f"{'dry run: ' if dry_run else ''}{report.rows} row(s): "
                 f"{report.created} created, {report.updated} updated, "
                 f"{report.unchanged} unchanged, {report.rejected} rejected; "
                 f"{report.accounts_created} account(s) created"]
        if report.file_error:
            lines = [f"file refused: {report.file_error}"]
        lines += [f"  line {e['line']}: {e['reason']}" for e in report.errors]
        emit(report.as_dict(), as_json, "\n".join(lines))
        if report.file_error:
            raise SystemExit(1)


@roster.command("letters")
@click.option("--school", "uai", required=True, help="UAI of the school.")
@click.option("--class", "class_name", help="Only this class (and its pupils' representatives).")
@click.option("--account", "account_ref", help="One account (identifier or id): re-issue.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="PDF file to write.")
@click.option("--json", "as_json", is_flag=True)
def letters_cmd(uai, class_name, account_ref, out, as_json):
    """Print notification letters with fresh provisional passwords (one page each)."""
    with app_context():
        try:
            batch = issue_letters(find_school(uai), class_name=class_name,
                                  account_ref=account_ref, actor="cli")
        except UnknownSchool:
            fail(f"unknown school {uai}")
        except LetterError as exc:
            fail(str(exc))
        # The PDF is written first, then the passwords committed, then the file is put in
        # place: never a letter whose password does not work, nor passwords without letters.
        target = Path(out).resolve()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".letters-", suffix=".pdf")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(batch.pdf)
            os.chmod(tmp, 0o600)  # provisional passwords inside
            commit()
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        summary = batch.summary() | {"out": str(target)}
        emit(summary, as_json, f"{len(batch.letters)} letter(s) written to {target}")
