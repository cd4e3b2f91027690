"""argon2id password hashing and the password policy.

`PasswordHasher` is built once per app with the configured cost. `verify` always spends
the same time: for an unknown identifier it verifies a dummy hash made at start-up, so
neither the answer nor its timing tells whether the account exists.
"""
from __future__ import annotations

import re
import unicodedata

import argon2
from flask_babel import lazy_gettext as _l

from .common_passwords import is_common


class Passwords:
    def __init__(self, time_cost: int, memory_cost: int, parallelism: int):
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism,
            type=argon2.Type.ID)
        self._dummy = self._hasher.hash("dummy password never used")

    @classmethod
    def from_config(cls, config) -> "Passwords":
        return cls(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"],
                   config["ARGON2_PARALLELISM"])

    def hash(self, password: str) -> str:
        return self._hasher.hash(_normalise(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches; with no hash, burn the same time and say no."""
        try:
            return self._hasher.verify(stored_hash or self._dummy, _normalise(password)) \
                and stored_hash is not None
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def _normalise(password: str) -> str:
    # NFKC so the same passphrase typed on a phone or a PC gives the same hash.
    return unicodedata.normalize("NFKC", password)


# Common passwords seen in French leaks, added to the shipped list (security/
# common_passwords.py) when it is built (scripts/build_common_passwords.py).
FRENCH_COMMON = (
    "Azerty123!", "Azerty1234!", "Motdepasse1!", "MotDePasse123!", "Password1!",
    "P@ssw0rd", "P@ssword1", "Soleil123!", "Bonjour123!", "Marseille13!", "Doudou123!",
    "Chouchou1!", "Loulou123!", "Nicolas1!", "Qwerty123!", "Azertyuiop1!", "Admin123!",
    "Welcome1!", "Jetaime123!", "Jtm123456!", "Coucou123!", "Camille1!", "Julien123!",
)

SPECIAL = re.compile(r"[^\w\s]|_", re.UNICODE)


def policy_problems(password: str, *, forbidden: tuple[str, ...] = (),
                    informal: bool = False) -> list[str]:
    """The EduConnect rule (8+ with upper, lower, digit, special) plus refusals of the
    identifier, names, birth dates and common passwords. Returns French messages ("tu"
    when `informal`, for a pupil's page)."""
    problems = []
    if len(password) < 8:
        problems.append(_l("8 caractères minimum."))
    if not any(c.isupper() for c in password):
        problems.append(_l("Au moins une lettre majuscule."))
    if not any(c.islower() for c in password):
        problems.append(_l("Au moins une lettre minuscule."))
    if not any(c.isdigit() for c in password):
        problems.append(_l("Au moins un chiffre."))
    if not SPECIAL.search(password):
        problems.append(_l("Au moins un caractère spécial."))
    folded = password.casefold()
    if is_common(password):
        problems.append(_l("Ce mot de passe est trop courant."))
    for word in forbidden:
        if word and len(word) >= 3 and word.casefold() in folded:
            problems.append(_l("Le mot de passe ne doit contenir ni ton identifiant, "
                               "ni ton nom, ni une date de naissance.") if informal else
                            _l("Le mot de passe ne doit contenir ni votre identifiant, "
                               "ni votre nom, ni une date de naissance."))
            break
    return problems
