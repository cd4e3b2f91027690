"""Run `idp` commands in process with the test settings as IDP_* environment."""
from __future__ import annotations

import json

from click.testing import CliRunner

from idp.cli import main


def settings_env(settings: dict) -> dict:
    env = {}
    for key, value in settings.items():
        if value is None:
            continue
        env[f"IDP_{key}"] = json.dumps(value) if isinstance(value, (bool, int, list)) and \
            not isinstance(value, str) else str(value)
        if isinstance(value, bool):
            env[f"IDP_{key}"] = "true" if value else "false"
    return env


def run_idp(settings: dict, *args: str, expect_ok: bool = True, input: str | None = None):
    result = CliRunner().invoke(main, list(args), env=settings_env(settings), input=input)
    if expect_ok:
        assert result.exit_code == 0, result.output
    return result


def run_json(settings: dict, *args: str) -> dict:
    return json.loads(run_idp(settings, *args, "--json").output)
