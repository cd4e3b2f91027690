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
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


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
