"""The console's actions as `idp` subcommands with --json: staff accounts, the audit
trail, relying-party edits, school support; bad input exits 1 and changes nothing."""
from __future__ import annotations

import csv
import io

import pyotp
from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent, OIDCClient, StaffAccount

from ..support.admin import SCHOOL_A, STAFF_PASSWORD, console_sign_in, MadeStaff, two_schools
from ..support.cli import run_idp, run_json


def test_staff_create_prints_the_totp_uri_once_and_it_signs_in(app, settings, browser, make):
    make.school(SCHOOL_A)
    data = run_json(settings, "staff", "create", "--identifier", "ecole.eve", "--password",
                    STAFF_PASSWORD, "--role", "school_staff", "--school", SCHOOL_A.lower(),
                    "--totp-now")
    assert data["schools"] == [SCHOOL_A] and data["totp_uri"].startswith("otpauth://totp/")
    assert len(data["recovery_codes"]) == 10
    secret = pyotp.parse_uri(data["totp_uri"]).secret
    staff = MadeStaff("ecole.eve", STAFF_PASSWORD, secret, data["recovery_codes"], "school_staff")
    assert console_sign_in(browser, staff).request.path == "/admin/"
    listed = run_json(settings, "staff", "list")["staff"]
    assert listed[0]["identifier"] == "ecole.eve" and listed[0]["totp_enrolled"]
    assert "totp_uri" not in str(listed) and secret not in str(listed)


def test_staff_create_without_totp_enrols_at_first_sign_in(settings, browser):
    data = run_json(settings, "staff", "create", "--identifier", "ops.fred", "--password",
                    STAFF_PASSWORD, "--role", "operator")
    assert data["totp"] == "at first sign-in" and "totp_uri" not in data
    browser.get("/admin/connexion")
    page = browser.submit("/admin/connexion", {"identifier": "ops.fred", "password": STAFF_PASSWORD})
    assert page.request.path == "/admin/connexion/enrolement"


def test_staff_create_refuses_bad_input(app, settings):
    for args, message in [
        (["--role", "operator", "--password", "court"], "password refused"),
        (["--role", "school_staff", "--password", STAFF_PASSWORD], "at least one school"),
        (["--role", "school_staff", "--password", STAFF_PASSWORD, "--school", "0000000X"],
         "unknown school"),
        (["--role", "auditor", "--password", STAFF_PASSWORD, "--identifier", "Bad Name"],
         "invalid identifier"),
    ]:
        if "--identifier" not in args:
            args = ["--identifier", "ops.gil", *args]
        result = run_idp(settings, "staff", "create", *args, expect_ok=False)
        assert result.exit_code == 1 and message in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(StaffAccount)) is None


def test_staff_disable_and_reset_totp(app, settings):
    run_idp(settings, "staff", "create", "--identifier", "ops.hal", "--password",
            STAFF_PASSWORD, "--role", "operator", "--totp-now")
    assert run_json(settings, "staff", "disable", "ops.hal")["action"] == "disable"
    assert run_json(settings, "staff", "reset-totp", "ops.hal")["action"] == "reset-totp"
    with app.app_context():
        row = db.session.scalar(select(StaffAccount))
        assert not row.enabled and row.totp_secret_sealed is None and row.session_epoch == 2
    assert run_idp(settings, "staff", "enable", "nobody", expect_ok=False).exit_code == 1


def test_audit_list_and_export(app, settings, tmp_path):
    run_idp(settings, "staff", "create", "--identifier", "ops.ida", "--password",
            STAFF_PASSWORD, "--role", "auditor")
    events = run_json(settings, "audit", "list", "--action", "staff_*")["events"]
    assert events[0]["action"] == "staff_created" and events[0]["actor"] == "cli"
    out = tmp_path / "journal.csv"
    run_idp(settings, "audit", "export", "--actor", "cli", "--out", str(out))
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][2] == "action" and [r[2] for r in rows[1:]] == ["staff_created", "audit_exported"]


def test_clients_edit_rotate_disable(app, settings, make):
    rp = make.oidc_client(name="ENT", redirect_uris=["https://ent.example/cb"])
    bad = run_idp(settings, "clients", "edit-oidc", rp.client_id, "--redirect-uri",
                  "http://ent.example/cb", expect_ok=False)
    assert bad.exit_code == 1 and "http is allowed only for localhost" in bad.output, bad.output
    data = run_json(settings, "clients", "edit-oidc", rp.client_id, "--name", "ENT 2",
                    "--redirect-uri", "https://ent.example/cb", "--redirect-uri",
                    "https://ent.example/cb2", "--ask-consent", "--pairwise")
    assert data["redirect_uris"] == ["https://ent.example/cb", "https://ent.example/cb2"]
    assert data["pairwise"] and not data["trusted_for_school"] and "client_secret" not in data
    public = run_json(settings, "clients", "edit-oidc", rp.client_id, "--token-auth-method", "none")
    assert public["public"]
    back = run_json(settings, "clients", "edit-oidc", rp.client_id, "--token-auth-method",
                    "client_secret_basic")
    assert len(back["client_secret"]) >= 43  # a new secret, printed once
    rotated = run_json(settings, "clients", "rotate-secret", rp.client_id)
    assert rotated["client_secret"] != back["client_secret"]
    run_json(settings, "clients", "disable-oidc", rp.client_id)
    listed = run_json(settings, "clients", "list")
    assert listed["oidc"][0]["enabled"] is False and listed["oidc"][0]["name"] == "ENT 2"
    with app.app_context():
        trail = str([(e.action, e.details) for e in db.session.scalars(select(AuditEvent))])
        assert rotated["client_secret"] not in trail and back["client_secret"] not in trail
        assert db.session.scalar(select(OIDCClient.enabled)) is False


def test_accounts_search_show_unlock_reactivate(app, settings, make):
    two_schools(app, make)
    found = run_json(settings, "accounts", "search", "--school", SCHOOL_A, "martin")["accounts"]
    assert {a["identifier"] for a in found} == {"s.martin", "j.martin", "l.martin", "h.martin"}
    other = run_idp(settings, "accounts", "show", "--school", SCHOOL_A, "p.durand", expect_ok=False)
    assert other.exit_code == 1 and "no account" in other.output  # another school's
    shown = run_json(settings, "accounts", "show", "--school", SCHOOL_A, "l.martin")
    assert shown["state"] == "provisional" and set(shown["guardians"]) == {"s.martin", "j.martin"}
    assert run_json(settings, "accounts", "unlock", "--school", SCHOOL_A, "l.martin")["was_locked"] == []
    refused = run_idp(settings, "accounts", "reactivate", "--school", SCHOOL_A, "l.martin",
                      expect_ok=False)
    assert refused.exit_code == 1 and "désactivé" in refused.output


def test_a_generated_client_id_never_reads_as_an_option(monkeypatch):
    """`idp clients edit-oidc <client_id>`: an id starting with "-" was taken for an option."""
    from idp.oidc import clients

    drawn = iter(["-Rstarts-with-a-dash", "AbCdEf0123456789xyzXYZ"])
    monkeypatch.setattr(clients.secrets, "token_urlsafe", lambda _n: next(drawn))
    assert clients.new_client_id() == "AbCdEf0123456789xyzXYZ"
