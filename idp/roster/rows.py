"""One CSV row checked and turned into plain data, or a French reason to reject it."""
from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date, datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from ..security.mobile_numbers import REGION_CODES
from .names import clean_name, fold_words

INE = re.compile(r"^[0-9]{9}[0-9A-Z][A-Z]$")
DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
NAME_MAX = 100


class RowError(ValueError):
    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass
class RepresentativeRow:
    rank: int
    first_name: str
    last_name: str
    phone: str | None
    email: str | None

    @property
    def names_key(self) -> str:
        return f"{fold_words(self.last_name)}|{fold_words(self.first_name)}"

    def match_key(self, pupil_ine: str) -> str:
        """Same person across siblings and imports: folded names and the first contact."""
        contact = self.phone or self.email or f"ine:{pupil_ine}"
        return f"{self.names_key}|{contact}"[:200]


@dataclass
class PupilRow:
    line: int
    national_id: str
    first_name: str
    last_name: str
    birth_date: date
    class_name: str
    representatives: list[RepresentativeRow] = field(default_factory=list)


def parse_date(raw: str, today: date | None = None) -> date:
    value = raw.strip()
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        today = today or date.today()
        if not (1900 <= parsed.year and parsed <= today):
            raise ValueError("out of range")
        return parsed
    raise ValueError("format")


@lru_cache(maxsize=4096)  # siblings' rows repeat their parents' details
def parse_phone(raw: str) -> str:
    """E.164 of a French (metropolitan or overseas) number, or of an international one
    written with its +country prefix."""
    value = raw.strip()
    # French overseas numbers are written nationally (0690...) but belong to their region.
    regions = (None,) if value.startswith(("+", "00")) else REGION_CODES
    if value.startswith("00"):
        value = "+" + value[2:]
    for region in regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError(value)


@lru_cache(maxsize=4096)
def parse_email(raw: str) -> str:
    result = validate_email(raw.strip(), check_deliverability=False)
    return result.normalized


def _name(row: dict, column: str, label) -> str:
    """`label()` gives the column's name for an error message: translated only when a
    row is rejected (eager gettext calls were a tenth of a school's import time)."""
    value = clean_name(row.get(column, ""))
    if not value:
        raise RowError(column, _("%(label)s manquant.", label=label()))
    if len(value) > NAME_MAX:
        raise RowError(column, _("%(label)s trop long (%(max)d caractères au plus).",
                                 label=label(), max=NAME_MAX))
    if not any(c.isalpha() for c in value):
        raise RowError(column, _("%(label)s invalide « %(value)s ».", label=label(), value=value))
    return value


def _representative(row: dict, rank: int) -> RepresentativeRow | None:
    prefix = f"resp{rank}_"
    values = {f: (row.get(prefix + f) or "").strip() for f in ("nom", "prenom", "telephone",
                                                               "email")}
    if not any(values.values()):
        return None
    last = _name(row, prefix + "nom", lambda: _("Nom du représentant %(n)d", n=rank))
    first = _name(row, prefix + "prenom", lambda: _("Prénom du représentant %(n)d", n=rank))
    phone = email = None
    if values["telephone"]:
        try:
            phone = parse_phone(values["telephone"])
        except ValueError:
            raise RowError(prefix + "telephone", _(
                "Téléphone du représentant %(n)d invalide « %(value)s » (attendu : un numéro "
                "français comme 06 12 34 56 78, ou international comme +32 470 12 34 56).",
                n=rank, value=values["telephone"])) from None
    if values["email"]:
        try:
            email = parse_email(values["email"])
        except EmailNotValidError:
            raise RowError(prefix + "email", _(
                "Adresse mail du représentant %(n)d invalide « %(value)s ».",
                n=rank, value=values["email"])) from None
    return RepresentativeRow(rank, first, last, phone, email)


def check_row(line: int, row: dict, today: date | None = None) -> PupilRow:
    """The row as data, or RowError naming the column and the reason."""
    if row.get("_extra"):
        raise RowError("", _("Plus de valeurs que de colonnes (un séparateur en trop ?)."))
    ine = (row.get("ine") or "").strip().upper().replace(" ", "")
    if not ine:
        raise RowError("ine", _("INE manquant."))
    if not INE.match(ine):
        raise RowError("ine", _("INE invalide « %(value)s » (11 caractères : 10 chiffres ou "
                                "lettres puis une lettre).", value=ine))
    last = _name(row, "nom", lambda: _("Nom"))
    first = _name(row, "prenom", lambda: _("Prénom"))
    raw_date = (row.get("date_naissance") or "").strip()
    if not raw_date:
        raise RowError("date_naissance", _("Date de naissance manquante."))
    try:
        birth = parse_date(raw_date, today)
    except ValueError:
        raise RowError("date_naissance", _(
            "Date de naissance invalide « %(value)s » (attendu JJ/MM/AAAA, par exemple "
            "14/03/2012).", value=raw_date)) from None
    class_name = clean_name(row.get("classe", ""))
    if not class_name:
        raise RowError("classe", _("Classe manquante."))
    if len(class_name) > 32:
        raise RowError("classe", _("Classe trop longue (32 caractères au plus)."))
    reps = [r for r in (_representative(row, 1), _representative(row, 2)) if r]
    if len(reps) == 2 and reps[0].names_key == reps[1].names_key:
        raise RowError("resp2_nom", _("Le représentant 2 est le même que le représentant 1."))
    return PupilRow(line, ine, first, last, birth, class_name, reps)
