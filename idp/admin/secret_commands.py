"""`idp secrets ...`: one secret per job (idp/secret_settings.py; README "Secrets").

`new` prints fresh values to put in the environment of every node; `legacy-totp-key`
prints the TOTP sealing key earlier versions derived from IDP_SECRET_KEY (appended to
IDP_TOTP_SEALING_KEYS, it keeps the second factors enrolled before working);
`reseal-totp` moves every TOTP secret under the first sealing key. Failures print one
line `error: ...` on stderr and exit 1.
"""
from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from .. import config as idp_config
from ..cli_helpers import app_context, commit, emit, fail
from ..secret_settings import entries, legacy_totp_sealing_key, new_values
from .totp_sealing import reseal_totp_secrets


@click.group("secrets")
def secrets_group():
    """The app secret, the TOTP sealing keys, the SMS-code key and the pairwise salt."""


@secrets_group.command("new")
@click.option("--json", "as_json", is_flag=True)
def secrets_new(as_json):
    """Print fresh, independent values for IDP_SECRET_KEY, IDP_TOTP_SEALING_KEYS,
    IDP_SMS_CODE_KEY and IDP_PAIRWISE_SALT; nothing is stored. A deployment that has
    already run keeps its pairwise salt (README: moving from IDP_SECRET_KEY)."""
    values = {f"IDP_{name}": value for name, value in new_values().items()}
    emit(values, as_json, "\n".join(f"{name}={value}" for name, value in values.items()))


@secrets_group.command("legacy-totp-key")
@click.option("--json", "as_json", is_flag=True)
def secrets_legacy_totp_key(as_json):
    """Print the TOTP sealing key(s) earlier versions derived from IDP_SECRET_KEY (and
    from each IDP_SECRET_KEY_FALLBACKS entry), comma-separated: append them to
    IDP_TOTP_SEALING_KEYS, then run `idp secrets reseal-totp`."""
    settings = idp_config.load()
    former = [settings.get("SECRET_KEY")] + entries(settings.get("SECRET_KEY_FALLBACKS"))
    keys = [legacy_totp_sealing_key(str(secret)) for secret in former if secret]
    if not keys:
        fail("no IDP_SECRET_KEY: the former TOTP sealing key derives from the secret "
             "the IdP ran with")
    emit({"keys": keys}, as_json, ",".join(keys))


@secrets_group.command("reseal-totp")
@click.option("--json", "as_json", is_flag=True)
def secrets_reseal_totp(as_json):
    """Seal every TOTP secret (families' second factors, staff accounts) again with the
    first IDP_TOTP_SEALING_KEYS key, after a new key was put first on every node; the
    former keys can then be removed. Secrets no configured key opens are left as they
    are and named (exit 1)."""
    try:
        with app_context():
            report = reseal_totp_secrets(actor="cli")
            commit()
    except SQLAlchemyError as exc:
        fail(f"database unreachable or not migrated (`idp db upgrade`): "
             f"{type(exc).__name__}, nothing changed")
    emit(report, as_json, f"{report['resealed']} TOTP secret(s) sealed again with the "
                          f"first key, {report['unchanged']} already were")
    if report["unreadable"]:
        fail(f"{len(report['unreadable'])} TOTP secret(s) open with none of "
             f"IDP_TOTP_SEALING_KEYS and were left as they are "
             f"({', '.join(report['unreadable'][:10])}"
             f"{', ...' if len(report['unreadable']) > 10 else ''}): add the key they were "
             "sealed with (`idp secrets legacy-totp-key` prints the former one)")
