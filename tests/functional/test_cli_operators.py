"""`idp` for operators (issue 16, point 7): passwords from a prompt or standard input,
never required on the command line; a database that was never migrated is one line
("run `idp db upgrade`"); no library warning on stdout or stderr; --json errors as JSON."""
from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

from idp.config import PROJECT_ROOT

from ..support.cli import run_idp
from ..support.served import settings_env

IDP = [sys.executable, "-c", "from idp.cli import main; main()"]
STAFF_PASSWORD = "Console-Secure-2026!"


def _idp(settings, *args, stdin: str = "", **extra):
    env = settings_env(settings, **extra)
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run([*IDP, *args], cwd=PROJECT_ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_password_from_standard_input(settings, browser):
    result = run_idp(settings, "accounts", "create", "--identifier", "p.stdin1",
                     "--password-stdin", "--profile", "parent", "--academy", "reims",
                     "--active", "--json", input="Cartable-Vert-2026\n")
    assert json.loads(result.output)["identifier"] == "p.stdin1"
    page = browser.sign_in("p.stdin1", "Cartable-Vert-2026")
    assert page.request.path != "/connexion"


def test_no_password_and_no_terminal_says_how_in_one_line(settings):
    result = _idp(settings, "staff", "create", "--identifier", "ops.nopass",
                  "--role", "operator")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == ("error: no password: type it at the prompt (in a terminal) or "
                             "pipe it with --password-stdin\n")
    both = run_idp(settings, "staff", "create", "--identifier", "ops.both", "--role",
                   "operator", "--password", STAFF_PASSWORD, "--password-stdin",
                   expect_ok=False, input=STAFF_PASSWORD + "\n")
    assert both.exit_code == 1 and "not both" in both.output
    empty = run_idp(settings, "staff", "create", "--identifier", "ops.empty", "--role",
                    "operator", "--password-stdin", expect_ok=False, input="\n")
    assert empty.exit_code == 1 and "no password on standard input" in empty.output


def _read_until(fd: int, wanted: bytes, timeout: float = 30) -> bytes:
    seen, deadline = b"", time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_password_at_a_hidden_prompt_in_a_terminal(settings):
    """A real pseudo-terminal: the prompt asks twice and never echoes the password."""
    master, slave = pty.openpty()
    env = settings_env(settings)
    process = subprocess.Popen([*IDP, "staff", "create", "--identifier", "ops.prompt",
                                "--role", "operator", "--json"], cwd=PROJECT_ROOT, env=env,
                               stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    try:
        transcript = _read_until(master, b"Password: ")
        os.write(master, STAFF_PASSWORD.encode() + b"\n")
        transcript += _read_until(master, b"confirmation: ")
        os.write(master, STAFF_PASSWORD.encode() + b"\n")
        transcript += _read_until(master, b"}")
        process.wait(timeout=30)
        transcript += _read_until(master, b"\0", timeout=0.5)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, transcript.decode(errors="replace")
    assert STAFF_PASSWORD.encode() not in transcript  # hidden input
    assert b'"identifier": "ops.prompt"' in transcript


def test_a_database_never_migrated_is_one_line(settings, tmp_path):
    empty = f"sqlite:///{tmp_path}/never-migrated.sqlite3"
    result = _idp(settings, "accounts", "show", "x.y", "--school", "0540042A",
                  DATABASE_URL=empty)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "error: database not migrated: run `idp db upgrade`\n"
    as_json = _idp(settings, "accounts", "show", "x.y", "--school", "0540042A", "--json",
                   DATABASE_URL=empty)
    assert as_json.returncode == 1 and as_json.stderr == ""
    assert json.loads(as_json.stdout) == {"error": "database not migrated: run `idp db upgrade`"}


def test_errors_as_json_with_json(settings):
    usage = _idp(settings, "accounts", "show", "--json")
    assert usage.returncode == 2 and usage.stderr == ""
    assert json.loads(usage.stdout) == {"error": "Missing argument 'IDENTIFIER'."}
    refused = _idp(settings, "staff", "create", "--identifier", "ops.court", "--role",
                   "operator", "--password-stdin", "--json", stdin="court\n")
    assert refused.returncode == 1 and refused.stderr == ""
    assert "password" in json.loads(refused.stdout)["error"]


def test_no_library_warning_in_normal_use(settings):
    for args in (["--help"], ["keys", "list", "--json"], ["db", "upgrade"]):
        result = _idp(settings, *args)
        assert result.returncode == 0, result.stderr
        assert "Warning" not in result.stderr and "Warning" not in result.stdout, args
    listed = _idp(settings, "keys", "list", "--json")
    assert listed.stderr == ""
    json.loads(listed.stdout)


def test_an_unwritable_metrics_directory_is_one_line(settings, tmp_path):
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")
    wanted = str(not_a_directory / "metrics")  # under a file: refused, even to root
    for command in (["serve", "--workers", "1", "--bind", "127.0.0.1:1"], ["worker"],
                    ["worker", "--once"]):
        result = _idp(settings, *command, METRICS_DIR=wanted)
        assert result.returncode == 1, (command, result.stderr[-500:])
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"error: METRICS_DIR {wanted} is not writable"), \
            result.stderr[-800:]
        assert "Traceback" not in result.stderr
