"""One secret per job (idp/secret_settings.py): what start-up refuses, in one line, what
development reads from var/, and what `idp keys generate` makes there once."""
from __future__ import annotations

import base64
import hashlib

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet, MultiFernet

from idp import config, create_app
from idp.cli import main
from idp.config import ConfigError
from idp.secret_settings import make_development_files, new_fernet_key

SECRET = "s" * 40
SEALING = "fuKDNO0lBf9dT8R5h6nvMA5qwAPYJ0oPhAcYZ1Pq1sE="
PRODUCTION = {"ISSUER": "https://idp.example", "SECRET_KEY": SECRET, "WORKERS": 1,
              "STORE_PATH": "/tmp/x", "REDIS_URL": None, "DATABASE_URL": "sqlite:///x",
              "KEY_ENCRYPTION_KEY": "ZmV0ZXMtZGUtZmluLWQtYW5uZWUtYXUtY29sbGVnZSE=",
              "TOTP_SEALING_KEYS": SEALING, "SMS_CODE_KEY": "k" * 40,
              "PAIRWISE_SALT": "p" * 40}


def refusal(**changes) -> str:
    """The one-line reason validate gives for the production settings changed so."""
    with pytest.raises(ConfigError) as exc:
        config.validate({**PRODUCTION, **changes})
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_the_production_settings_pass():
    config.validate(PRODUCTION)


@pytest.mark.parametrize("missing, reason", [
    ("TOTP_SEALING_KEYS", "no TOTP sealing key: set IDP_TOTP_SEALING_KEYS, the same on every node"),
    ("SMS_CODE_KEY", "no SMS-code key: set IDP_SMS_CODE_KEY, the same on every node"),
    ("PAIRWISE_SALT", "no pairwise salt: set IDP_PAIRWISE_SALT, the same on every node"),
])
def test_production_refuses_each_missing_secret_in_one_line(missing, reason):
    assert refusal(**{missing: None}).startswith(reason)
    assert refusal(**{missing: ""}).startswith(reason)


def test_production_never_takes_the_pairwise_salt_from_the_secret():
    settings = config.load({"ISSUER": "https://idp.example", "SECRET_KEY": SECRET},
                           environ={"IDP_CONFIG": "/nonexistent.toml"})
    assert settings["PAIRWISE_SALT"] is None
    with pytest.raises(ConfigError, match="no pairwise salt"):
        config.validate({**PRODUCTION, "PAIRWISE_SALT": settings["PAIRWISE_SALT"]})


def test_development_asks_for_idp_keys_generate():
    message = refusal(ISSUER="http://127.0.0.1:5000", SMS_CODE_KEY=None)
    assert message == ("no SMS-code key: run `idp keys generate` (development) or set "
                       "IDP_SMS_CODE_KEY")


@pytest.mark.parametrize("changes, reason", [
    ({"TOTP_SEALING_KEYS": "not-a-key"},
     "IDP_TOTP_SEALING_KEYS entry 1 is not a Fernet key (not URL-safe base64)"),
    ({"TOTP_SEALING_KEYS": f"{SEALING},{base64.urlsafe_b64encode(b'x' * 16).decode()}"},
     "IDP_TOTP_SEALING_KEYS entry 2 is not a Fernet key (16 bytes instead of 32)"),
    ({"TOTP_SEALING_KEYS": f"{SEALING},,{SEALING}"},
     "IDP_TOTP_SEALING_KEYS entry 2 is not a Fernet key (empty)"),
    ({"SECRET_KEY_FALLBACKS": f"{'o' * 40},"},
     "IDP_SECRET_KEY_FALLBACKS entry 2 is empty (a stray comma?)"),
    ({"SECRET_KEY_FALLBACKS": ["o" * 40, " "]},
     "IDP_SECRET_KEY_FALLBACKS entry 2 is empty (a stray comma?)"),
    ({"SECRET_KEY_FALLBACKS": "former"},
     "IDP_SECRET_KEY_FALLBACKS entry 1 is too short: a secret has at least 32 characters"),
    ({"SMS_CODE_KEY": "short"},
     "IDP_SMS_CODE_KEY too short: it needs at least 32 characters"),
    ({"SMS_CODE_KEY": SECRET},
     "IDP_SMS_CODE_KEY must not be the app secret (IDP_SECRET_KEY): one secret per job"),
])
def test_malformed_secrets_are_refused_in_one_line(changes, reason):
    assert refusal(**changes) == reason


def test_blank_fallbacks_mean_none():
    config.validate({**PRODUCTION, "SECRET_KEY_FALLBACKS": ""})
    config.validate({**PRODUCTION, "SECRET_KEY_FALLBACKS": []})


def test_fallbacks_reach_flask_and_the_csrf_signer_newest_last():
    former = ["a" * 40, "b" * 40]
    for value in (",".join(former), former):
        settings = config.load({"ISSUER": "https://idp.example", "SECRET_KEY": SECRET,
                                "SECRET_KEY_FALLBACKS": value},
                               environ={"IDP_CONFIG": "/nonexistent.toml"})
        assert settings["SECRET_KEY_FALLBACKS"] == former
        assert settings["WTF_CSRF_SECRET_KEY"] == [*former, SECRET]


def test_create_app_refuses_a_bad_sealing_key(settings):
    with pytest.raises(ConfigError, match="IDP_TOTP_SEALING_KEYS entry 1 is not a Fernet key"):
        create_app({**settings, "TOTP_SEALING_KEYS": "sixteen-bytes-no"})


def test_idp_serve_refuses_production_without_a_pairwise_salt(tmp_path, monkeypatch):
    monkeypatch.setenv("IDP_WORKERS", "1")  # run_gunicorn sets it: restored afterwards
    env = {f"IDP_{k}": str(v) for k, v in PRODUCTION.items() if v is not None}
    env.update(IDP_CONFIG=str(tmp_path / "none.toml"), IDP_PAIRWISE_SALT="")
    result = CliRunner().invoke(main, ["serve", "--workers", "1"], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no pairwise salt: set IDP_PAIRWISE_SALT")
    assert result.stderr.count("\n") == 1


def _dev(tmp_path, **settings) -> dict:
    files = {"TOTP_SEALING_KEYS_FILE": str(tmp_path / "totp"),
             "SMS_CODE_KEY_FILE": str(tmp_path / "sms"),
             "PAIRWISE_SALT_FILE": str(tmp_path / "salt")}
    return config.load({"ISSUER": "http://127.0.0.1:5000", "SECRET_KEY_FILE":
                        str(tmp_path / "secret"), **files, **settings},
                       environ={"IDP_CONFIG": "/nonexistent.toml"})


def test_a_fresh_checkout_gets_independent_files_read_in_development_only(tmp_path):
    made = make_development_files(_dev(tmp_path))
    assert len(made) == 3
    settings = _dev(tmp_path, SECRET_KEY=SECRET)
    assert len(settings["TOTP_SEALING_KEYS"].split(",")) == 1
    assert len(settings["SMS_CODE_KEY"]) >= 32 and settings["PAIRWISE_SALT"] != SECRET
    config.validate(settings)
    assert (tmp_path / "salt").stat().st_mode & 0o777 == 0o600
    public = config.load({"ISSUER": "https://idp.example", "SECRET_KEY": SECRET,
                          "PAIRWISE_SALT_FILE": str(tmp_path / "salt"),
                          "TOTP_SEALING_KEYS_FILE": str(tmp_path / "totp")},
                         environ={"IDP_CONFIG": "/nonexistent.toml"})
    assert public["PAIRWISE_SALT"] is None and public["TOTP_SEALING_KEYS"] is None
    assert make_development_files(_dev(tmp_path)) == []  # made once, never replaced


def test_a_checkout_that_ran_before_keeps_its_second_factors_and_identifiers(tmp_path):
    former_key = base64.urlsafe_b64encode(
        hashlib.sha256(b"totp-seal|" + SECRET.encode()).digest())  # what totp.py did
    sealed_before = Fernet(former_key).encrypt(b"JBSWY3DPEHPK3PXP")
    make_development_files(_dev(tmp_path, SECRET_KEY=SECRET))
    settings = _dev(tmp_path, SECRET_KEY=SECRET)
    first, *others = settings["TOTP_SEALING_KEYS"].split(",")
    assert others == [former_key.decode()] and first != others[0]
    every = MultiFernet([Fernet(key) for key in (first, *others)])
    assert every.decrypt(sealed_before) == b"JBSWY3DPEHPK3PXP"
    assert settings["PAIRWISE_SALT"] == SECRET  # the salt it ran with: same identifiers
    assert new_fernet_key() != first
