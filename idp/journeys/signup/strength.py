"""The password rules shown on the sign-up page, ticked as they are met, and a strength
label. Evaluated here for the page without JavaScript (after a submit); the same rules
run live in static/js/password-strength.js. The policy itself is
idp.security.passwords.policy_problems: these are its visible part."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ...security.common_passwords import is_common
from ...security.passwords import SPECIAL

RULES = (
    ("upper", _l("Doit contenir 1 majuscule")),
    ("lower", _l("Doit contenir 1 minuscule")),
    ("digit", _l("Doit contenir 1 chiffre")),
    ("special", _l("Doit contenir 1 caractère spécial, par exemple ! ? @ # $ ( ) { } [ ] "
                   "_ & = + - % * < > £ / ;")),
    ("length", _l("Doit contenir 8 caractères minimum")),
)
LEVELS = {
    "empty": _l("Non évalué"),
    "weak": _l("Trop faible"),
    "medium": _l("Moyen"),
    "strong": _l("Fort"),
    "very_strong": _l("Très fort"),
}
SCORES = {"empty": 0, "weak": 1, "medium": 2, "strong": 3, "very_strong": 4}


@dataclass(frozen=True)
class Evaluation:
    met: dict          # rule -> bool
    level: str         # a key of LEVELS

    @property
    def label(self) -> str:
        return str(LEVELS[self.level])

    @property
    def score(self) -> int:
        return SCORES[self.level]


def evaluate(password: str | None, refused: bool = False) -> Evaluation:
    """Which rules `password` meets and how strong it is: all rules met is "Moyen", 10
    characters "Fort", 14 "Très fort"; a common or leaked password (the policy's own
    list, security/common_passwords.py) is "Trop faible" whatever its shape, and so is
    one the server `refused` after a submit (the family's name, a birth date…: the page
    does not show "Très fort" beside the reason it was refused)."""
    password = password or ""
    met = {
        "upper": any(c.isupper() for c in password),
        "lower": any(c.islower() for c in password),
        "digit": any(c.isdigit() for c in password),
        "special": bool(SPECIAL.search(password)),
        "length": len(password) >= 8,
    }
    if not password:
        level = "empty"
    elif refused or not all(met.values()) or is_common(password):
        level = "weak"
    elif len(password) >= 14:
        level = "very_strong"
    elif len(password) >= 10:
        level = "strong"
    else:
        level = "medium"
    return Evaluation(met, level)
