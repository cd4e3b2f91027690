"""Reading a school's CSV export: encoding, separator, column names.

School software exports in UTF-8 (with or without BOM) or in Windows-1252, with `;`
(French spreadsheets) or `,` separators, and headers written in many ways ("Prénom",
"PRENOM", "prenom"). A file-level problem (not a CSV, unknown encoding, missing column)
raises `RosterFileError` with a French message, before anything is written.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from flask_babel import gettext as _, ngettext

from .names import fold

REQUIRED = ("ine", "nom", "prenom", "date_naissance", "classe")
REP_FIELDS = ("nom", "prenom", "telephone", "email")
OPTIONAL = tuple(f"resp{n}_{f}" for n in (1, 2) for f in REP_FIELDS)
# Other spellings seen in exports, after folding (lower-case ASCII letters and digits).
ALIASES = {
    "ine": "ine", "numeroine": "ine", "identifiantnational": "ine",
    "nom": "nom", "nomeleve": "nom", "nomdefamille": "nom",
    "prenom": "prenom", "prenomeleve": "prenom",
    "datenaissance": "date_naissance", "datedenaissance": "date_naissance", "nele": "date_naissance",
    "classe": "classe", "division": "classe",
}
for _n in (1, 2):
    for _f in REP_FIELDS:
        for _prefix in (f"resp{_n}", f"responsable{_n}", f"representant{_n}"):
            ALIASES[f"{_prefix}{_f}"] = f"resp{_n}_{_f}"
        ALIASES[f"{_f}resp{_n}"] = f"resp{_n}_{_f}"
    ALIASES[f"resp{_n}tel"] = f"resp{_n}_telephone"
    ALIASES[f"resp{_n}mail"] = f"resp{_n}_email"
    ALIASES[f"resp{_n}courriel"] = f"resp{_n}_email"

# UTF-8 read as Windows-1252 somewhere upstream ("HÃ©lÃ¨ne").
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
                       "\u02dc\u2013-\u203a\u20ac\u2122]|â€")
MAX_BYTES = 20 * 1024 * 1024


class RosterFileError(ValueError):
    """The file as a whole cannot be read as a roster (nothing is imported)."""


@dataclass
class RosterFile:
    encoding: str
    delimiter: str
    columns: list[str]
    rows: list[tuple[int, dict]]   # (line number in the file, canonical column -> value)
    repaired: bool = False         # double-encoded UTF-8 was repaired


def decode(data: bytes) -> tuple[str, str, bool]:
    """(text, encoding name, repaired). UTF-8 first, Windows-1252 as the fallback."""
    if len(data) > MAX_BYTES:
        raise RosterFileError(_("Fichier trop volumineux (%(mb)d Mo au plus).",
                                mb=MAX_BYTES // 1024 // 1024))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RosterFileError(_("Ce fichier est un classeur (Excel, Calc), pas un CSV : "
                                "enregistrez-le au format CSV puis importez-le à nouveau."))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding = data.decode("utf-16"), "utf-16"
    elif b"\x00" in data:
        raise RosterFileError(_("Ce fichier n'est pas un fichier texte CSV."))
    else:
        try:
            text, encoding = data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "windows-1252"
            except UnicodeDecodeError as exc:
                raise RosterFileError(_(
                    "Encodage du fichier non reconnu (octet illisible en position %(pos)d) : "
                    "enregistrez-le en UTF-8 ou en Windows-1252.", pos=exc.start)) from exc
    repaired = False
    if _MOJIBAKE.search(text):
        try:
            text, repaired = text.encode("cp1252").decode("utf-8"), True
        except (UnicodeEncodeError, UnicodeDecodeError) as exc:
            raise RosterFileError(_(
                "Les accents du fichier sont abîmés (« Ã© » au lieu de « é ») : ré-exportez-le "
                "en UTF-8 depuis le logiciel de scolarité.")) from exc
    return text, encoding, repaired


def canonical(header: str) -> str | None:
    key = re.sub(r"[^a-z0-9]", "", fold_keep_digits(header))
    return ALIASES.get(key)


def fold_keep_digits(value: str) -> str:
    return "".join(fold(c) if not c.isdigit() else c for c in value)


def parse(data: bytes) -> RosterFile:
    """Decode and split the file; check the header names every required column."""
    text, encoding, repaired = decode(data)
    if not text.strip():
        raise RosterFileError(_("Le fichier est vide."))
    first_line = text.lstrip().splitlines()[0]
    delimiter = max(";,\t", key=first_line.count)
    if first_line.count(delimiter) == 0:
        raise RosterFileError(_("Séparateur introuvable : les colonnes doivent être séparées "
                                "par des points-virgules (;) ou des virgules (,)."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        raise RosterFileError(_("Ligne d'en-tête illisible.")) from exc
    names = [canonical(h) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise RosterFileError(ngettext(
            "Colonne manquante : %(cols)s. Colonnes attendues : %(expected)s.",
            "Colonnes manquantes : %(cols)s. Colonnes attendues : %(expected)s.",
            len(missing), cols=", ".join(missing), expected=";".join(REQUIRED + OPTIONAL)))
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        raise RosterFileError(ngettext("Colonne en double : %(cols)s.",
                                       "Colonnes en double : %(cols)s.", len(duplicated),
                                       cols=", ".join(duplicated)))
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            row = {name: (values[i] if i < len(values) else "")
                   for i, name in enumerate(names) if name}
            row["_extra"] = len(values) > len(names)
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise RosterFileError(_("Ligne %(line)d illisible : %(error)s.", line=reader.line_num,
                                error=str(exc))) from exc
    return RosterFile(encoding, delimiter, [n for n in names if n], rows, repaired)
