"""Write the French catalogue: the plural messages only, each one's French forms as written
in the code (msgid, msgid_plural), under French plural rules (CLDR's: 0 and 1 are singular).

Why a catalogue for the source language: without one, gettext picks a message's plural
form with the English rule (n != 1), so "0 essai restant" came out "0 essais restants".
Singular messages need no entry (gettext falls back to the msgid). Run by
`make translations` after extraction; tests/unit/test_translations.py checks that every
plural message of the code is in it and that the .mo matches.

    .venv/bin/python scripts/french_plurals.py [translations/messages.pot]
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
FRENCH = ROOT / "translations" / "fr" / "LC_MESSAGES"


def french_catalogue(template: Catalog) -> Catalog:
    catalogue = Catalog(locale="fr", project="Connexion Scolarité", fuzzy=False,
                        header_comment="# French plural forms, written by scripts/french_plurals.py",
                        creation_date=template.creation_date,
                        revision_date=template.creation_date)
    for message in template:
        if message.id and message.pluralizable:
            singular, plural = message.id[0], message.id[1]
            catalogue.add(message.id, string=(singular,) + (plural,) * (catalogue.num_plurals - 1))
    return catalogue


def main(pot: Path) -> None:
    with pot.open("rb") as fh:
        catalogue = french_catalogue(read_po(fh))
    FRENCH.mkdir(parents=True, exist_ok=True)
    with (FRENCH / "messages.po").open("wb") as fh:
        write_po(fh, catalogue, omit_header=False, width=100, no_location=True)
    with (FRENCH / "messages.mo").open("wb") as fh:
        write_mo(fh, catalogue)
    print(f"{len(catalogue)} French plural message(s) in {FRENCH / 'messages.po'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "translations" / "messages.pot")
