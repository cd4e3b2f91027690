"""The `idp` command: this module only assembles the groups. The subcommands live in
idp/admin/*commands.py, above the services they call, and share their helpers through
idp/cli_helpers.py, never through this module. Every subcommand has --help; those that
report take --json."""
from __future__ import annotations

import click

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
