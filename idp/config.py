"""Settings: built-in defaults < config/idp.toml < IDP_* environment < overrides.

The defaults, every key with what it is for, are in idp/defaults.py. Every key is
upper-case in the Flask config. In `config/idp.toml` keys are written in
lower case (``database_url = "..."``); in the environment they carry the ``IDP_`` prefix
(``IDP_DATABASE_URL``). Values from the environment are parsed as TOML scalars when they
look like one (``IDP_ARGON2_TIME_COST=2`` is an int), otherwise kept as strings.

`validate` refuses, with a one-line reason, a configuration that cannot work.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from . import secret_settings
from .database_url import sqlalchemy_url
from .defaults import DEFAULTS, PROJECT_ROOT  # noqa: F401 - the settings, re-exported
from .secret_settings import fernet_key_problem  # noqa: F401 - idp/keys/sealing.py uses it


class ConfigError(RuntimeError):
    """A configuration the IdP refuses to start with (the message is one line)."""


def _parse_env_value(raw: str):
    """Read an environment value as a TOML scalar or list when it is one."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def load(overrides: dict | None = None, environ: dict | None = None) -> dict:
    """Merge the four layers into one dict of upper-case settings."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    toml_path = Path(environ.get("IDP_CONFIG", PROJECT_ROOT / "config" / "idp.toml"))
    if toml_path.exists():
        with toml_path.open("rb") as fh:
            settings.update({k.upper(): v for k, v in tomllib.load(fh).items()})
    for name, raw in environ.items():
        if name.startswith("IDP_") and name != "IDP_CONFIG":
            settings[name[4:]] = _parse_env_value(raw)
    settings.update(overrides or {})
    _derive(settings)
    return settings


def _derive(settings: dict) -> None:
    """Fill settings that follow from others (secret file, base URL, cookie security)."""
    if not settings.get("SECRET_KEY"):
        secret_file = Path(settings["SECRET_KEY_FILE"])
        if secret_file.exists():
            settings["SECRET_KEY"] = secret_file.read_text().strip()
    settings["ISSUER"] = (settings.get("ISSUER") or "").rstrip("/")
    kek_file = Path(settings.get("KEY_ENCRYPTION_KEY_FILE") or "")
    if not settings.get("KEY_ENCRYPTION_KEY") and _is_local(settings["ISSUER"]) \
            and kek_file.name and kek_file.is_file():
        settings["KEY_ENCRYPTION_KEY"] = kek_file.read_text().strip()  # development only
    settings["BASE_URL"] = (settings.get("BASE_URL") or settings["ISSUER"]).rstrip("/")
    if settings.get("SESSION_COOKIE_SECURE") is None:
        settings["SESSION_COOKIE_SECURE"] = settings["ISSUER"].startswith("https://")
    secret_settings.derive(settings, local=_is_local(settings["ISSUER"]))


def validate(settings: dict) -> None:
    """Refuse a configuration that cannot work, with a one-line reason."""
    issuer = settings.get("ISSUER")
    if not issuer or not issuer.startswith(("https://", "http://")):
        raise ConfigError("no issuer: set ISSUER (IDP_ISSUER) to the absolute URL of this IdP")
    if issuer.startswith("http://") and not _is_local(issuer) and not settings.get("TESTING"):
        raise ConfigError(f"issuer {issuer} must use https outside localhost")
    if not settings.get("SECRET_KEY"):
        raise ConfigError(
            "no secret: run `idp keys generate` or set IDP_SECRET_KEY (32+ random bytes)")
    if len(settings["SECRET_KEY"]) < 32:
        raise ConfigError("secret too short: IDP_SECRET_KEY needs at least 32 characters")
    why = secret_settings.problem(
        settings, production=not _is_local(issuer) and not settings.get("TESTING"))
    if why:
        raise ConfigError(why)
    keks = key_encryption_keys(settings)
    if not keks and not _is_local(issuer) and not settings.get("TESTING"):
        raise ConfigError("no key-encryption key: set IDP_KEY_ENCRYPTION_KEY, the same on every "
                          "node (`idp keys encryption-key` prints a new one)")
    for position, key in enumerate(keks, 1):
        if fernet_key_problem(key):
            raise ConfigError(f"IDP_KEY_ENCRYPTION_KEY entry {position} is not a Fernet key "
                              f"({fernet_key_problem(key)})")
    proxies = settings.get("TRUSTED_PROXIES", 0)
    if isinstance(proxies, bool) or not isinstance(proxies, int) or not 0 <= proxies <= 10:
        raise ConfigError(f"IDP_TRUSTED_PROXIES must be the number of proxies in front of "
                          f"the IdP, 0 to 10 (got {proxies!r})")
    _validate_store(settings)
    if settings.get("FRANCECONNECT_ENABLED"):
        missing = [name for name in ("DISCOVERY_URL", "CLIENT_ID", "CLIENT_SECRET")
                   if not settings.get("FRANCECONNECT_" + name)]
        if missing:
            raise ConfigError("FranceConnect is enabled but IDP_FRANCECONNECT_"
                              + ", IDP_FRANCECONNECT_".join(missing) + " not set")
    try:
        sqlalchemy_url(str(settings.get("DATABASE_URL") or ""))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    workers = int(settings.get("WORKERS") or 1)
    if workers > 1 and str(settings.get("STORE_PATH")) == ":memory:" \
            and not settings.get("REDIS_URL") and not settings.get("REDIS_SENTINELS"):
        raise ConfigError(
            f"{workers} processes with a process-local store: set IDP_REDIS_URL or a STORE_PATH file")
    if workers > 1 and settings["DATABASE_URL"].startswith("sqlite://") and ":memory:" in settings["DATABASE_URL"]:
        raise ConfigError(f"{workers} processes with an in-memory database: use a file or PostgreSQL")


def _validate_store(settings: dict) -> None:
    """Redis through its sentinels or at one URL, not both; a readable sentinel list."""
    if not settings.get("REDIS_SENTINELS"):
        return
    if settings.get("REDIS_URL"):
        raise ConfigError("IDP_REDIS_URL and IDP_REDIS_SENTINELS are both set: keep one "
                          "(the sentinels name the master)")
    from .store.sentinel import parse_sentinels

    try:
        parse_sentinels(settings["REDIS_SENTINELS"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    seconds = settings.get("REDIS_FAILOVER_SECONDS")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ConfigError(f"IDP_REDIS_FAILOVER_SECONDS must be a number of seconds above 0 "
                          f"(got {seconds!r})")


def key_encryption_keys(settings: dict) -> list[str]:
    """The key-encryption keys: a comma-separated string (environment) or a TOML list."""
    value = settings.get("KEY_ENCRYPTION_KEY")
    if not value:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _is_local(url: str) -> bool:
    if "://" not in url:
        return False
    host = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
    return host in {"localhost", "127.0.0.1", "[::1]"}
