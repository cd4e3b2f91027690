"""Settings layers and the start-up refusals."""
from __future__ import annotations

import pytest

from idp import config, create_app
from idp.config import ConfigError


def test_layers_defaults_file_environment_overrides(tmp_path):
    toml = tmp_path / "idp.toml"
    toml.write_text('issuer = "https://file.example"\nargon2_time_cost = 4\nsession_idle_minutes = 20\n')
    env = {"IDP_CONFIG": str(toml), "IDP_ARGON2_TIME_COST": "5", "IDP_SECRET_KEY": "s" * 40}
    settings = config.load({"SESSION_IDLE_MINUTES": 10}, environ=env)
    assert settings["ISSUER"] == "https://file.example"      # file over default
    assert settings["ARGON2_TIME_COST"] == 5                  # env over file, typed
    assert settings["SESSION_IDLE_MINUTES"] == 10             # overrides over everything
    assert settings["LOCKOUT_THRESHOLD"] == 5                 # default kept


def _valid(**kw):
    base = {"ISSUER": "https://idp.example", "SECRET_KEY": "s" * 40, "WORKERS": 1,
            "STORE_PATH": "/tmp/x", "REDIS_URL": None, "DATABASE_URL": "sqlite:///x",
            "KEY_ENCRYPTION_KEY": "fuKDNO0lBf9dT8R5h6nvMA5qwAPYJ0oPhAcYZ1Pq1sE=",
            "TOTP_SEALING_KEYS": "ZmV0ZXMtZGUtZmluLWQtYW5uZWUtYXUtY29sbGVnZSE=",
            "SMS_CODE_KEY": "k" * 40, "PAIRWISE_SALT": "p" * 40}
    base.update(kw)
    return base


@pytest.mark.parametrize("broken, reason", [
    ({"ISSUER": ""}, "no issuer"),
    ({"ISSUER": "idp.example"}, "no issuer"),
    ({"ISSUER": "http://idp.example"}, "must use https"),
    ({"SECRET_KEY": None}, "no secret"),
    ({"SECRET_KEY": "short"}, "secret too short"),
    ({"WORKERS": 2, "STORE_PATH": ":memory:"}, "process-local store"),
    ({"WORKERS": 2, "DATABASE_URL": "sqlite:///:memory:"}, "in-memory database"),
    ({"KEY_ENCRYPTION_KEY": None}, "no key-encryption key"),
    ({"KEY_ENCRYPTION_KEY": "fuKDNO0lBf9dT8R5h6nvMA5qwAPYJ0oPhAcYZ1Pq1sE=,short"},
     "entry 2 is not a Fernet key"),
])
def test_refuses_configurations_that_cannot_work(broken, reason):
    with pytest.raises(ConfigError) as exc:
        config.validate(_valid(**broken))
    assert reason in str(exc.value)
    assert "\n" not in str(exc.value)


def test_local_http_issuer_is_fine_for_development():
    config.validate(_valid(ISSUER="http://127.0.0.1:5000"))
    config.validate(_valid(ISSUER="http://127.0.0.1:5000", KEY_ENCRYPTION_KEY=None))


def test_development_reads_the_key_encryption_key_file_production_does_not(tmp_path):
    kek = tmp_path / "kek"
    kek.write_text("fuKDNO0lBf9dT8R5h6nvMA5qwAPYJ0oPhAcYZ1Pq1sE=\n")
    local = config.load({"ISSUER": "http://127.0.0.1:5000", "KEY_ENCRYPTION_KEY_FILE": str(kek)},
                        environ={})
    assert local["KEY_ENCRYPTION_KEY"] == "fuKDNO0lBf9dT8R5h6nvMA5qwAPYJ0oPhAcYZ1Pq1sE="
    public = config.load({"ISSUER": "https://idp.example", "KEY_ENCRYPTION_KEY_FILE": str(kek)},
                         environ={})
    assert public["KEY_ENCRYPTION_KEY"] is None  # every node must be given the same one


def test_create_app_refuses_without_secret(settings, tmp_path):
    with pytest.raises(ConfigError):
        create_app({**settings, "SECRET_KEY": None, "SECRET_KEY_FILE": str(tmp_path / "none")})
