"""The `idp` command: every subcommand has --help; reporting ones take --json."""
from __future__ import annotations

import click
import pytest

from idp.cli import main

from ..support.cli import run_idp, run_json


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        path = prefix + (name,)
        yield path
        if isinstance(command, click.Group):
            yield from _commands(command, path)


@pytest.mark.parametrize("path", list(_commands(main)), ids=lambda p: " ".join(p))
def test_every_subcommand_has_help(settings, path):
    result = run_idp(settings, *path, "--help")
    assert "Usage:" in result.output


def test_accounts_create_makes_an_account_that_signs_in(settings, browser):
    data = run_json(settings, "accounts", "create", "--identifier", "p.dupont12",
                    "--password", "Cartable-Vert-2026", "--profile", "parent",
                    "--academy", "reims", "--first-name", "Paul", "--last-name", "Dupont",
                    "--email", "paul@example.org", "--active")
    assert data["identifier"] == "p.dupont12" and data["state"] == "active"
    # A new account answers "Contact et préférences" once (J5), then reaches its home.
    assert browser.sign_in("p.dupont12", "Cartable-Vert-2026").request.path == "/preferences"
    assert browser.submit_page().request.path == "/"


def test_accounts_create_refuses_bad_input(settings):
    result = run_idp(settings, "accounts", "create", "--identifier", "p.dupont12",
                     "--password", "x", "--profile", "parent", "--academy", "atlantis",
                     expect_ok=False)
    assert result.exit_code == 1 and "unknown academy" in result.output
    run_idp(settings, "accounts", "create", "--identifier", "p.twice", "--password", "x",
            "--profile", "parent", "--academy", "reims")
    again = run_idp(settings, "accounts", "create", "--identifier", "p.twice", "--password",
                    "x", "--profile", "parent", "--academy", "reims", expect_ok=False)
    assert "taken" in again.output


def test_clients_add_oidc_prints_the_secret_once(settings, app):
    data = run_json(settings, "clients", "add-oidc", "--name", "ENT test",
                    "--redirect-uri", "https://ent.example/cb",
                    "--redirect-uri", "https://ent.example/cb2",
                    "--post-logout-redirect-uri", "https://ent.example/",
                    "--backchannel-logout-uri", "https://ent.example/bcl",
                    "--scope", "openid", "--scope", "education", "--pairwise")
    assert data["client_id"] and len(data["client_secret"]) >= 43
    public = run_json(settings, "clients", "add-oidc", "--name", "App", "--public",
                      "--redirect-uri", "http://localhost:8080/cb")
    assert "client_secret" not in public
    assert public["token_endpoint_auth_method"] == "none"


@pytest.mark.parametrize("args, reason", [
    (["--redirect-uri", "http://ent.example/cb"], "http is allowed only for localhost"),
    (["--redirect-uri", "ent.example/cb"], "not an absolute URL"),
    (["--redirect-uri", "https://ent.example/cb#x"], "fragment"),
    (["--redirect-uri", "https://ent.example/cb", "--scope", "admin"], "unknown scopes"),
    (["--redirect-uri", "https://ent.example/cb", "--token-auth-method", "private_key_jwt"],
     "jwks"),
])
def test_clients_add_oidc_refuses_bad_registrations(settings, args, reason):
    result = run_idp(settings, "clients", "add-oidc", "--name", "Bad", *args, expect_ok=False)
    assert result.exit_code == 1 and reason in result.output


def test_duplicate_client_name_is_refused(settings):
    run_idp(settings, "clients", "add-oidc", "--name", "Twice", "--redirect-uri",
            "https://a.example/cb")
    result = run_idp(settings, "clients", "add-oidc", "--name", "Twice", "--redirect-uri",
                     "https://a.example/cb", expect_ok=False)
    assert "already exists" in result.output


def test_keys_list_and_rotate(settings, keys_restored):
    before = run_json(settings, "keys", "list")["keys"]
    assert {k["alg"] for k in before if k["state"] == "active" and k["purpose"] == "oidc"} \
        == {"RS256", "ES256"}
    rotated = run_json(settings, "keys", "rotate")["active"]
    after = run_json(settings, "keys", "list")["keys"]
    active = {k["kid"] for k in after if k["state"] == "active" and k["purpose"] == "oidc"}
    assert active == set(rotated)
    assert {k["kid"] for k in before} <= {k["kid"] for k in after}  # old ones kept (grace)


def test_demo_load_is_idempotent(settings):
    first = run_json(settings, "demo", "load")
    second = run_json(settings, "demo", "load")
    assert [a["identifier"] for a in first["accounts"]] == [a["identifier"] for a in second["accounts"]]
    assert {c["name"] for c in second["clients"]} >= {"ENT", "PRONOTE"}


def test_serve_refuses_process_local_state_in_one_line(settings):
    result = run_idp({**settings, "STORE_PATH": ":memory:", "REDIS_URL": None},
                     "serve", "--workers", "2", expect_ok=False)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "process-local store" in result.output
