"""Every setting in idp/defaults.py is named in the README (its settings table or its
prose), unless it is one of the few internal keys below: an operator reading the README
finds every knob the code reads."""
from __future__ import annotations

import re

from idp.defaults import DEFAULTS, PROJECT_ROOT

# Not for operators: set by the IdP itself or Flask's and its extensions' own settings.
INTERNAL = {
    "WORKERS",                 # set by `idp serve --workers` for its processes
    "SESSION_COOKIE_SECURE",   # derived from the issuer's scheme
    "WTF_CSRF_TIME_LIMIT",     # Flask-WTF: CSRF tokens live as long as the session
    "BABEL_DEFAULT_LOCALE",    # Flask-Babel: French, the service's language
    "BABEL_DEFAULT_TIMEZONE",  # Flask-Babel: Europe/Paris (idp/local_time.py)
    "LANGUAGES",               # the translations shipped (translations/)
    "TESTING",                 # Flask: tests only
    "DEBUG",                   # Flask: development only
}

NAME = re.compile(r"(?<![A-Za-z0-9_])IDP_([A-Z0-9_]*[A-Z0-9])(?![A-Za-z0-9_])")
# In a table row, `IDP_SMTP_HOST`, `_PORT`: a `_SUFFIX` completes a leading part of the
# last full name before it (`_PORT` -> SMTP_PORT, `_PARALLELISM` after
# `IDP_ARGON2_TIME_COST` -> ARGON2_PARALLELISM).
CODE = re.compile(r"`(IDP)?(_[A-Z0-9_]*[A-Z0-9])`")


def documented(readme: str) -> set[str]:
    names = set(NAME.findall(readme))
    for line in readme.splitlines():
        if not line.startswith("|"):
            continue
        base = None
        for match in CODE.finditer(line):
            if match.group(1):
                base = match.group(2)[1:]
            elif base:
                parts = base.split("_")
                names.update("_".join(parts[:i]) + match.group(2) for i in range(1, len(parts)))
    return names


def test_the_suffix_rows_read_as_the_readme_means_them():
    row = "| `IDP_ARGON2_TIME_COST` / `_MEMORY_COST` / `_PARALLELISM` | 3 / 65536 / 1 | cost |"
    assert {"ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM"} <= documented(row)
    assert "SMTP_PORT" not in documented("`IDP_SMTP_HOST`, `_PORT` in prose")
    assert "SMS_CODE_KEY" not in documented("`IDP_SMS_CODE_KEY_FILE`")


def test_every_setting_is_in_the_readme_or_named_internal():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    names = documented(readme)
    missing = sorted(key for key in DEFAULTS if key not in names and key not in INTERNAL)
    assert missing == [], f"settings neither in README.md nor in INTERNAL: {missing}"
    assert INTERNAL <= set(DEFAULTS), sorted(INTERNAL - set(DEFAULTS))  # no stale entry
