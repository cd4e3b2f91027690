"""The `idp` command: this module only assembles the groups. The subcommands live in
idp/admin/*commands.py, above the services they call, and share their helpers through
idp/cli_helpers.py, never through this module. Every subcommand has --help; those that
report take --json."""
from __future__ import annotations

import json
import sys
import warnings

import click
from sqlalchemy.exc import DBAPIError

from .admin.charter_commands import charter, notices
from .admin.client_commands import clients
from .admin.commands import audit, staff
from .admin.roster_commands import roster
from .admin.key_commands import keys
from .admin.secret_commands import secrets_group
from .admin.security_commands import security
from .admin.setup_commands import database, demo, serve
from .admin.signup_commands import signup
from .admin.support_commands import accounts
from .admin.worker_commands import lifecycle, worker
from .cli_helpers import database_problem, fail


class IdpGroup(click.Group):
    """The `idp` group: library warnings silenced, a database error as one line (the
    database not migrated: "run `idp db upgrade`"), and with --json every error, usage
    errors included, as {"error": "..."} on stdout (exit status unchanged)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        argv = list(sys.argv[1:] if args is None else args)
        quiet_library_warnings()
        if "--json" not in argv:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        try:
            return super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.Abort:
            click.echo(json.dumps({"error": "aborted"}))
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(json.dumps({"error": exc.format_message()}, ensure_ascii=False))
            sys.exit(exc.exit_code)

    def make_context(self, info_name, args, parent=None, **extra):
        ctx = super().make_context(info_name, args, parent=parent, **extra)
        ctx.meta["idp.json"] = "--json" in args or "--json" in ctx.protected_args
        return ctx

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            with ctx:
                fail(database_problem(exc))


def quiet_library_warnings() -> None:
    """No library's deprecation notice on an operator's terminal (pysaml2 and others warn
    about what they call in cryptography); PYTHONWARNINGS still shows them to developers."""
    if sys.warnoptions:
        return
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    try:
        from cryptography.utils import CryptographyDeprecationWarning
    except ImportError:  # pragma: no cover
        return
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)


@click.group(cls=IdpGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Identity provider for French school families (OpenID Connect and SAML 2.0)."""


for _command in (
        database, keys, secrets_group, accounts, clients, charter, notices, demo,  # the instance
        serve,
        roster, worker, lifecycle,  # school accounts: rosters, letters, delivery, lifecycle
        staff, audit,  # administration (issue 8): staff, audit trail
        security,  # forced password change campaigns (issue 17)
        signup):  # self-registration J4: what families declined, for the schools
    main.add_command(_command)


if __name__ == "__main__":
    main()
