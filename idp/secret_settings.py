"""One secret per job: how the secrets are read, checked and first made (idp/config.py
calls `derive` and `problem`; `idp keys generate` calls `make_development_files`).

| setting | its only job | rotation |
|---|---|---|
| SECRET_KEY (+ SECRET_KEY_FALLBACKS) | signs CSRF tokens (Flask-WTF) and whatever Flask signs | new value in SECRET_KEY, the former in the fallbacks until the pages it signed are gone |
| TOTP_SEALING_KEYS | seals TOTP secrets (Fernet keys: the first seals, all open) | new key first, `idp secrets reseal-totp`, then drop the old |
| SMS_CODE_KEY | keys the HMAC of SMS codes kept in the store | change it: codes sent in the last minutes need "Renvoyer le SMS" |
| PAIRWISE_SALT | salts pairwise `sub` and SAML persistent NameIDs | never: every RP would see new identifiers |

No setting derives from another (SECRET_KEY used to do all four jobs). In development (a
local issuer) the last three are read from files under var/, made once by `idp keys
generate`; elsewhere they must be set, and start-up refuses a configuration without one.
This module imports nothing from idp (idp/config.py imports it).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from pathlib import Path

MIN_SECRET_LENGTH = 32
# Setting -> the setting naming its development file.
DEVELOPMENT_FILES = {"TOTP_SEALING_KEYS": "TOTP_SEALING_KEYS_FILE",
                     "SMS_CODE_KEY": "SMS_CODE_KEY_FILE",
                     "PAIRWISE_SALT": "PAIRWISE_SALT_FILE"}


def entries(value) -> list[str]:
    """A list setting: a TOML list or a comma-separated string; [] when unset or blank.
    Empty entries are kept ("a,,b"): `problem` names them instead of guessing."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(item).strip() for item in value]
    text = str(value).strip()
    return [part.strip() for part in text.split(",")] if text else []


def fernet_key_problem(key: str) -> str | None:
    """Why `key` is not a Fernet key (32 bytes in URL-safe base64), or None."""
    if not key:
        return "empty"
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, ValueError):
        return "not URL-safe base64"
    return None if len(raw) == 32 else f"{len(raw)} bytes instead of 32"


def new_fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def legacy_totp_sealing_key(secret_key: str) -> str:
    """The Fernet key TOTP secrets were sealed with before TOTP_SEALING_KEYS existed
    (derived from the app secret): listed after the new key, it opens them until
    `idp secrets reseal-totp` has moved them."""
    digest = hashlib.sha256(b"totp-seal|" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def new_values() -> dict[str, str]:
    """Fresh, independent values for the four settings (`idp secrets new`, tests)."""
    return {"SECRET_KEY": secrets.token_urlsafe(48), "TOTP_SEALING_KEYS": new_fernet_key(),
            "SMS_CODE_KEY": secrets.token_urlsafe(32), "PAIRWISE_SALT": secrets.token_urlsafe(32)}


def derive(settings: dict, local: bool) -> None:
    """Read the development files (a local issuer only: every node of a deployment must
    be given the same values), and give Flask and Flask-WTF the secret's fallbacks."""
    for name, file_setting in DEVELOPMENT_FILES.items():
        path = Path(settings.get(file_setting) or "")
        if not settings.get(name) and local and path.name and path.is_file():
            settings[name] = path.read_text().strip()
    if settings.get("PAIRWISE_SALT") is not None:
        settings["PAIRWISE_SALT"] = str(settings["PAIRWISE_SALT"])  # "12345" read as an int
    fallbacks = entries(settings.get("SECRET_KEY_FALLBACKS"))
    settings["SECRET_KEY_FALLBACKS"] = fallbacks  # Flask 3.1: oldest first, tried after SECRET_KEY
    if settings.get("SECRET_KEY"):
        # Flask-WTF 1.3 ignores SECRET_KEY_FALLBACKS, but hands WTF_CSRF_SECRET_KEY to
        # itsdangerous, which takes a list: it signs with the last, accepts any.
        settings["WTF_CSRF_SECRET_KEY"] = [*fallbacks, settings["SECRET_KEY"]]


def _missing(what: str, setting: str, production: bool, how: str) -> str:
    if production:
        return f"no {what}: set {setting}, the same on every node ({how})"
    return f"no {what}: run `idp keys generate` (development) or set {setting}"


def problem(settings: dict, production: bool) -> str | None:
    """The first thing wrong with the secrets, in one line, or None."""
    secret = settings.get("SECRET_KEY")
    fallbacks = entries(settings.get("SECRET_KEY_FALLBACKS"))
    for position, former in enumerate(fallbacks, 1):
        if not former:
            return f"IDP_SECRET_KEY_FALLBACKS entry {position} is empty (a stray comma?)"
        if len(former) < MIN_SECRET_LENGTH:
            return (f"IDP_SECRET_KEY_FALLBACKS entry {position} is too short: a secret has "
                    f"at least {MIN_SECRET_LENGTH} characters")
    sealing = entries(settings.get("TOTP_SEALING_KEYS"))
    if not sealing:
        return _missing("TOTP sealing key", "IDP_TOTP_SEALING_KEYS", production,
                        "`idp secrets new` prints one; README: moving from IDP_SECRET_KEY")
    for position, key in enumerate(sealing, 1):
        why = fernet_key_problem(key)
        if why:
            return f"IDP_TOTP_SEALING_KEYS entry {position} is not a Fernet key ({why})"
    sms_key = str(settings.get("SMS_CODE_KEY") or "")
    if not sms_key:
        return _missing("SMS-code key", "IDP_SMS_CODE_KEY", production,
                        "`idp secrets new` prints one")
    if len(sms_key) < MIN_SECRET_LENGTH:
        return f"IDP_SMS_CODE_KEY too short: it needs at least {MIN_SECRET_LENGTH} characters"
    if sms_key == secret or sms_key in fallbacks:
        return "IDP_SMS_CODE_KEY must not be the app secret (IDP_SECRET_KEY): one secret per job"
    if not settings.get("PAIRWISE_SALT"):
        return _missing("pairwise salt", "IDP_PAIRWISE_SALT", production,
                        "never changed; a deployment that ran without it: its IDP_SECRET_KEY, "
                        "or every RP's identifiers change")
    return None


_LABELS = {"TOTP_SEALING_KEYS": "the TOTP sealing keys", "SMS_CODE_KEY": "the SMS-code key",
           "PAIRWISE_SALT": "the pairwise salt"}


def _private_file(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content + "\n")
    path.chmod(0o600)


def make_development_files(settings: dict) -> list[str]:
    """Make the development files missing (once; a checkout that already ran keeps its
    data working: its TOTP secrets still open and its pairwise identifiers stay, because
    the files carry what SECRET_KEY gave until now). What was made, for the report."""
    made = []
    secret = settings.get("SECRET_KEY")  # the secret this checkout ran with, if any
    values = {
        "TOTP_SEALING_KEYS": ",".join([new_fernet_key()]
                                      + ([legacy_totp_sealing_key(secret)] if secret else [])),
        "SMS_CODE_KEY": secrets.token_urlsafe(32),
        "PAIRWISE_SALT": secret or secrets.token_urlsafe(32),
    }
    for name, file_setting in DEVELOPMENT_FILES.items():
        path = Path(settings.get(file_setting) or "")
        if settings.get(name) or not path.name or path.exists():
            continue
        _private_file(path, values[name])
        made.append(f"{_LABELS[name]} ({path})")
    return made
