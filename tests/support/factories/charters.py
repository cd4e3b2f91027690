"""Charter versions and RP notices, published as `idp charter publish` does (from a
Markdown file, here written in a temporary directory).

    CharterVersionFactory()                        the general charter, version 2026-09
    CharterVersionFactory(version="2027-01")       a new version: asked again of everyone
    CharterVersionFactory(rp_key="pronote")        an RP's own charter
    CharterVersionFactory(pupil_text="# ...")      with the pupils' "tu" wording beside it
    RPNoticeFactory(rp_key="pronote")              an RP's one-time notice
    RPNoticeFactory(pupil_text="# ...")            with the pupils' "tu" wording beside it
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from idp.admin.charters import publish_charter, publish_notice

from .base import AppFactory

CHARTER_TEXT = """# Charte d'utilisation de test

## 1. Objet

Cette charte fixe les règles d'utilisation.
Une **règle importante** sur deux lignes.

- premier engagement ;
- second engagement.
"""
NOTICE_TEXT = "# Informations\n\nCe service affiche vos notes.\n"


@dataclass
class MadeText:
    id: int
    version: str


def _write(directory, name: str, text: str) -> Path:
    directory = Path(directory or tempfile.mkdtemp(prefix="idp-charters-"))
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


class CharterVersionFactory(AppFactory):
    class Meta:
        model = MadeText

    version = "2026-09"
    text = CHARTER_TEXT
    rp_key = None
    pupil_text = None  # written beside the file as charter-...-<version>.eleve.md
    directory = None  # where the Markdown file goes (a new temporary one by default)

    @classmethod
    def make_row(cls, *, version, text, rp_key, pupil_text, directory):
        safe = "".join(c if c.isalnum() else "_" for c in rp_key or "general")
        path = _write(directory, f"charter-{safe}-{version}.md", text)
        if pupil_text is not None:
            _write(path.parent, f"charter-{safe}-{version}.eleve.md", pupil_text)
        row, _ = publish_charter(path, rp_key=rp_key, version=version)
        return row

    @classmethod
    def made(cls, row, values):
        return MadeText(row.id, row.version)


class RPNoticeFactory(AppFactory):
    class Meta:
        model = MadeText

    rp_key = "pronote"
    version = "2026-09"
    text = NOTICE_TEXT
    pupil_text = None  # written beside the file as notice-<version>.eleve.md
    directory = None

    @classmethod
    def make_row(cls, *, rp_key, version, text, pupil_text, directory):
        path = _write(directory, f"notice-{version}.md", text)
        if pupil_text is not None:
            _write(path.parent, f"notice-{version}.eleve.md", pupil_text)
        row, _ = publish_notice(path, rp_key=rp_key, version=version)
        return row

    @classmethod
    def made(cls, row, values):
        return MadeText(row.id, row.version)
