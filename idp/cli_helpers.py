"""What every `idp` subcommand shares: its output (text or --json), its failure exit, the
app context for commands that touch the database and the one commit at their end.

The command modules (idp/admin/*commands.py) import this module and never idp/cli.py,
which only assembles their groups: no import cycle between the command line and its
commands. It builds the whole app (create_app), so only command modules import it, never
a journey, an adapter or a library module (the import-linter layers say so).
"""
from __future__ import annotations

import json
import sys

import click

from . import create_app
from .config import ConfigError
from .db import db

def emit(data: dict, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


def fail(message: str) -> None:
    """Exit 1 with a one-line reason: `error: ...` on stderr, or `{"error": "..."}` on
    stdout when the command was given --json."""
    if wants_json():
        click.echo(json.dumps({"error": message}, ensure_ascii=False))
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(1)


def wants_json() -> bool:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("as_json") or ctx.meta.get("idp.json"):
            return True
        ctx = ctx.parent
    return False


def database_problem(exc: BaseException) -> str:
    """One line for a database error a command met: not migrated, behind the migrations,
    unreachable, or else the error's first line (never a traceback)."""
    from sqlalchemy.exc import DBAPIError

    from .ops.health import schema_problem

    try:
        with db.engine.connect() as connection:
            problem = schema_problem(connection)
    except DBAPIError as again:
        return f"database unreachable: {_first_line(again.orig or again)}"
    if problem:
        return f"database {problem}"
    return f"database error: {type(exc).__name__}: {_first_line(getattr(exc, 'orig', None) or exc)}"


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


# -- passwords: a prompt or standard input, never required on the command line ----------
def password_options(command):
    """--password (still accepted, but visible in `ps` and shell history) and
    --password-stdin; with neither, `read_password` prompts (hidden, typed twice)."""
    command = click.option("--password-stdin", "password_stdin", is_flag=True,
                           help="Read the password from standard input (one line).")(command)
    return click.option("--password", help="Avoid: visible in `ps` and the shell history; "
                        "without it the password is asked (hidden) or read with "
                        "--password-stdin.")(command)


def read_password(password: str | None, from_stdin: bool) -> str:
    if password is not None and from_stdin:
        fail("give --password or --password-stdin, not both")
    if from_stdin:
        line = click.get_text_stream("stdin").readline().rstrip("\r\n")
        if not line:
            fail("no password on standard input")
        return line
    if password is not None:
        return password
    if not click.get_text_stream("stdin").isatty():
        fail("no password: type it at the prompt (in a terminal) or pipe it with "
             "--password-stdin")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def app_context():
    """An app context for commands that touch the database (commit() at the end)."""
    try:
        app = create_app()
    except (ConfigError, RuntimeError) as exc:
        fail(str(exc))
    return app.app_context()


def commit() -> None:
    db.session.commit()


def action_commands(group: click.Group, argument: str, run, actions: dict) -> None:
    """One command per action on a named thing: `idp <group> <name> <ARGUMENT> [--json]`
    calls run(value, action, as_json). `actions`: command name -> (action, help)."""
    for name, (action, doc) in actions.items():
        def command(as_json, _action=action, **values):
            run(values[argument], _action, as_json)

        command = click.option("--json", "as_json", is_flag=True)(command)
        group.command(name, help=doc)(click.argument(argument)(command))
