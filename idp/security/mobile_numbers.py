"""Mobile numbers that may receive a security code: French, metropolitan or overseas.

Codes are only ever sent to a French mobile (+33 6 / +33 7) or a mobile of an overseas
department or collectivity (SECURITY.md: French and overseas numbers only, against SMS
pumping to premium or foreign ranges). The regions are PHONE_REGIONS below; the
setting SMS_COUNTRY_CODES may narrow their country codes. Numbers are parsed with
`phonenumbers` over the same regions as the roster import (idp.roster.rows.parse_phone),
so the E.164 form typed by a family is the one the school records hold.
"""
from __future__ import annotations

from typing import NamedTuple

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l


class PhoneRegion(NamedTuple):
    code: str           # phonenumbers' region
    calling_code: int   # +33, +590...
    label: object = None  # its entry in the sign-up selector; None: listed under another's
    menu: int | None = None  # that entry's place in the selector


# The one list of French regions a phone number may belong to (metropolitan and overseas),
# in the order a nationally written number is tried: the first region where it is valid
# wins (0690... is Guadeloupe's; six-digit numbers are valid in several Pacific regions).
# The roster import, the sign-up selector and the SMS country codes all come from here.
PHONE_REGIONS = (
    PhoneRegion("FR", 33, _l("France métropolitaine"), 1),
    PhoneRegion("GP", 590, _l("Guadeloupe, Saint-Barthélemy, Saint-Martin"), 2),
    PhoneRegion("MQ", 596, _l("Martinique"), 4),
    PhoneRegion("GF", 594, _l("Guyane"), 3),
    PhoneRegion("RE", 262, _l("La Réunion, Mayotte"), 5),
    PhoneRegion("YT", 262),
    PhoneRegion("PM", 508, _l("Saint-Pierre-et-Miquelon"), 6),
    PhoneRegion("BL", 590),
    PhoneRegion("MF", 590),
    PhoneRegion("NC", 687, _l("Nouvelle-Calédonie"), 8),
    PhoneRegion("PF", 689, _l("Polynésie française"), 9),
    PhoneRegion("WF", 681, _l("Wallis-et-Futuna"), 7),
)
REGION_CODES = tuple(r.code for r in PHONE_REGIONS)
# The country code selector of the sign-up form: (region, "+prefix", label).
INDICATIFS = tuple((r.code, f"+{r.calling_code}", r.label) for r in
                   sorted((r for r in PHONE_REGIONS if r.menu), key=lambda r: r.menu))
REGIONS = tuple(code for code, _p, _l2 in INDICATIFS)
_MOBILE = (phonenumbers.PhoneNumberType.MOBILE,
           phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
_PREMIUM = (phonenumbers.PhoneNumberType.PREMIUM_RATE,
            phonenumbers.PhoneNumberType.SHARED_COST,
            phonenumbers.PhoneNumberType.TOLL_FREE)


class MobileNumberError(ValueError):
    """A number we will not send a code to. `reason`: "invalid", "premium", "foreign" or
    "not_mobile"; `message` is the French sentence to show beside the field."""

    MESSAGES = {
        "invalid": _l("Ce numéro de téléphone n'est pas valide. Exemple : 06 12 34 56 78, "
                      "ou +590 690 12 34 56 hors de France métropolitaine."),
        "premium": _l("Les numéros surtaxés ou spéciaux ne peuvent pas recevoir de code. "
                      "Indiquez votre numéro de téléphone portable."),
        "foreign": _l("Seuls les numéros de téléphone portable français (métropole et "
                      "outre-mer) peuvent recevoir le code. Pour un numéro étranger, "
                      "contactez l'établissement."),
        "not_mobile": _l("Ce numéro n'est pas un numéro de téléphone portable : indiquez un "
                         "numéro qui peut recevoir des SMS (06 ou 07 en métropole)."),
    }

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return str(self.MESSAGES[self.reason])


def allowed_country_codes() -> set[int]:
    """SMS_COUNTRY_CODES when set (to narrow the list), else every French region's."""
    codes = current_app.config.get("SMS_COUNTRY_CODES")
    if codes is None:
        return {r.calling_code for r in PHONE_REGIONS}
    return {int(c) for c in codes}


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber:
    value = "".join(raw.split()).replace(".", "").replace("-", "")
    if value.startswith("00"):
        value = "+" + value[2:]
    if value.startswith("+"):
        candidates = [None]
    else:  # 0690... typed with "France" selected is still Guadeloupe's mobile
        candidates = [region] + [r for r in REGION_CODES if r != region]
    first = None
    for candidate in candidates:
        try:
            number = phonenumbers.parse(value, candidate)
        except phonenumbers.NumberParseException:
            continue
        first = first or number
        if phonenumbers.is_valid_number(number):
            return number
    if first is not None and phonenumbers.number_type(first) in _PREMIUM:
        return first
    raise MobileNumberError("invalid")


def parse_mobile(raw: str, region: str = "FR") -> str:
    """The E.164 form of a mobile number that may receive a code, or MobileNumberError.

    `region` is the country code selector's value, used for numbers written nationally."""
    if not raw or len(raw) > 30:
        raise MobileNumberError("invalid")
    number = _parse(raw, region if region in REGIONS else "FR")
    kind = phonenumbers.number_type(number)
    if kind in _PREMIUM:
        raise MobileNumberError("premium")
    if number.country_code not in allowed_country_codes():
        raise MobileNumberError("foreign")
    if kind not in _MOBILE:
        raise MobileNumberError("not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_allowed(e164: str) -> bool:
    """True for an E.164 number parse_mobile would accept (checked again before sending)."""
    try:
        return parse_mobile(e164) == e164
    except MobileNumberError:
        return False


def display(e164: str) -> str:
    """'+33 6 12 34 56 78': how the number is shown back to the family."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164
