"""Password changes shared by "Mot de passe oublié ?" (signed out) and "Mon compte"
(signed in): the policy, and what a new password ends.

A new password ends every session of the account (the session epoch; relying parties are
told by back-channel logout) and every refresh token (signin.account_sessions, as every
other way a password is set), revokes outstanding reset links, clears the lockout
counters and sends a notice. From "Mon compte" the browser making the change stays
signed in.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import ngettext

from ...audit import record
from ...extensions import passwords, throttle
from ...models import Account, AccountProfile, utcnow
from ...security.client_address import client_key
from ...security.onetime import revoke_link_tokens
from ...security.passwords import policy_problems
from ...signin.account_sessions import end_account_sessions
from ..activation.service import forbidden_words
from .notices import send_notice

RESET_PURPOSE = "password_reset"


def password_problems(account: Account, password: str) -> list[str]:
    """The house policy (SECURITY.md) with the account's identifier, names and birth dates
    refused inside the password. French messages (the confirmation is the form's:
    journeys/fields.NewPasswordTwice)."""
    informal = account.profile == AccountProfile.pupil  # a pupil's page says "tu"
    return [str(p) for p in policy_problems(password, forbidden=forbidden_words(account),
                                            informal=informal)]


def replace_password(account: Account, new_password: str, *, reason: str) -> None:
    """Store the new password and end what the old one opened. `reason` is "reset"
    (signed out: every session ends) or "change" (this browser stays signed in)."""
    account.password_hash = passwords().hash(new_password)
    account.password_changed_at = utcnow()
    account.provisional_password_hash = None
    revoke_link_tokens(account.id, RESET_PURPOSE)
    end_account_sessions(account, reason=f"password_{reason}",
                         keep_this_session=reason == "change")
    guard = throttle()
    guard.clear_account(account.identifier)
    guard.clear_success(client_key(), account.identifier)
    record("password_reset" if reason == "reset" else "password_changed",
           actor=account.identifier)
    send_notice(account, "password_reset" if reason == "reset" else "password_changed")


@dataclass(frozen=True)
class CurrentPassword:
    """What check_current_password found: true when the password is right; `pause`, the
    seconds the sign-in throttle still holds when it did not let the password be checked
    (the page says "try again in N seconds", not "wrong password")."""
    right: bool
    pause: int = 0

    def __bool__(self) -> bool:
        return self.right

    def throttled(self, informal: bool = False) -> str | None:
        """The page's message when the throttle held (None otherwise: the password was
        checked, and the caller says it was wrong its own way)."""
        if not self.pause:
            return None
        if informal:
            return ngettext("Trop d'essais : ton mot de passe n'a pas été vérifié. Réessaie "
                            "dans %(num)d seconde.",
                            "Trop d'essais : ton mot de passe n'a pas été vérifié. Réessaie "
                            "dans %(num)d secondes.", self.pause)
        return ngettext("Trop d'essais : votre mot de passe n'a pas été vérifié. Réessayez "
                        "dans %(num)d seconde.",
                        "Trop d'essais : votre mot de passe n'a pas été vérifié. Réessayez "
                        "dans %(num)d secondes.", self.pause)


def check_current_password(account: Account, password: str) -> CurrentPassword:
    """The current password, under the same throttle as sign-in (a borrowed session must
    not become a way to guess the password). A try while the throttle holds checks
    nothing and, as at sign-in, does not make the wait longer."""
    ip = client_key()
    guard = throttle()
    pause = guard.retry_after(ip, account.identifier)  # read once (is_blocked reads it too)
    if pause > 0:
        passwords().verify(None, password)  # same cost as a real check
        record("current_password_throttled", actor=account.identifier)
        return CurrentPassword(False, pause)
    if passwords().verify(account.password_hash, password):
        guard.clear_success(ip, account.identifier)
        return CurrentPassword(True)
    guard.record_failure(ip, account.identifier)
    record("current_password_failed", actor=account.identifier)
    return CurrentPassword(False)
