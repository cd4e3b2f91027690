"""The optional second factor of a family account (TOTP, RFC 6238) and its recovery codes.

- Enrolment: a secret is drawn and kept sealed in the session until the family types a
  first code from its app; only then is the SecondFactor row written, with ten recovery
  codes shown once.
- Sign-in: the `second_factor` step of the plan is needed while the account has a factor
  and this session has not passed it. Whether the account has one is read once per
  session and remembered there ("absent"), so accounts without it cost no query per
  request; a factor enrolled elsewhere applies from the next sign-in.
- A code is accepted once (security/totp.py); wrong codes count in the brute-force
  throttle under their own key, so guessing codes slows down like guessing passwords.
- Disabling asks the password and a code (or a recovery code).
"""
from __future__ import annotations

from enum import StrEnum

from flask import session
from sqlalchemy import delete, func, select, update

from ...audit import record
from ...db import db
from ...extensions import throttle
from ...models import Account, RecoveryCode, SecondFactor, utcnow
from ...security import totp
from ...security.client_address import client_key
from ..account.notices import send_notice

FLAG = "second_factor"      # "<account id>:passed" or "<account id>:absent"
ENROL_KEY = "totp_enrolment"  # the sealed secret while enrolling
RECOVERY_CODE_COUNT = 10


class CodeCheck(StrEnum):
    """What a typed code did."""
    totp = "totp"          # the app's current code
    recovery = "recovery"  # an unused recovery code (now spent)
    wrong = "wrong"
    blocked = "blocked"    # too many wrong codes lately: not even checked

    @property
    def opens(self) -> bool:
        return self in (CodeCheck.totp, CodeCheck.recovery)


def factor_of(account: Account) -> SecondFactor | None:
    return db.session.get(SecondFactor, account.id)


def _flag(account: Account) -> str | None:
    value = session.get(FLAG) or ""
    prefix, _, state = value.partition(":")
    return state if prefix == str(account.id) else None


def _set_flag(account: Account, state: str) -> None:
    session[FLAG] = f"{account.id}:{state}"


def is_needed(ctx) -> bool:
    """The step: an account with a factor whose session has not passed it; or a service
    that requires the second factor (its acr) for a session that has not passed one,
    even for an account without a factor yet (the step then sets it up)."""
    if ctx.account is None:
        return False
    if ctx.pending is not None and ctx.pending.acr == "mfa" \
            and "mfa" not in (session.get("amr") or []):
        return True
    state = _flag(ctx.account)
    if state in ("passed", "absent"):
        return False
    if factor_of(ctx.account) is None:
        _set_flag(ctx.account, "absent")
        return False
    return True


def mark_passed(account: Account) -> None:
    _set_flag(account, "passed")
    amr = list(session.get("amr") or [])
    session["amr"] = amr + [m for m in ("otp", "mfa") if m not in amr]


def _throttle_key(account: Account) -> str:
    return "2fa:" + account.identifier


def is_blocked(account: Account) -> bool:
    return throttle().is_blocked(client_key(), _throttle_key(account))


def remaining_codes(account: Account) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))) or 0


def _use_recovery_code(account: Account, code: str) -> bool:
    """Spend one recovery code (a conditional UPDATE: two concurrent uses, one wins)."""
    row_id = db.session.scalar(select(RecoveryCode.id).where(
        RecoveryCode.account_id == account.id,
        RecoveryCode.code_hash == totp.hash_recovery_code(code),
        RecoveryCode.used_at.is_(None)).limit(1))
    if row_id is None:
        return False
    return db.session.execute(
        update(RecoveryCode).where(RecoveryCode.id == row_id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()), execution_options={"synchronize_session": False}
    ).rowcount == 1


def check_code(account: Account, code: str) -> CodeCheck:
    """totp or recovery when `code` opens the door, else wrong or blocked (too many wrong
    codes lately: a growing delay, as for passwords)."""
    ip, key = client_key(), _throttle_key(account)
    guard = throttle()
    if guard.is_blocked(ip, key):
        guard.record_failure(ip, key)
        return CodeCheck.blocked
    factor = factor_of(account)
    secret = totp.unseal(factor.sealed_secret) if factor else None
    outcome = CodeCheck.wrong
    if secret and totp.verify(secret, code, replay_key=f"acct:{account.id}"):
        outcome = CodeCheck.totp
    elif factor and totp.looks_like_recovery_code(code) and _use_recovery_code(account, code):
        outcome = CodeCheck.recovery
    if outcome is CodeCheck.wrong:
        guard.record_failure(ip, key)
        record("second_factor_failed", actor=account.identifier)
        return outcome
    guard.clear_success(ip, key)
    factor.last_used_at = utcnow()
    if outcome is CodeCheck.recovery:
        left = remaining_codes(account)
        record("recovery_code_used", actor=account.identifier, remaining=left)
        send_notice(account, "recovery_code_used", remaining=left)
    return outcome


# --- Enrolment, codes, disabling ---------------------------------------------------------

def enrolment_secret() -> str:
    """The secret being enrolled in this session (drawn on first display)."""
    secret = totp.unseal(session.get(ENROL_KEY) or "")
    if secret is None:
        secret = totp.new_secret()
        session[ENROL_KEY] = totp.seal(secret)
    return secret


def enrolment_view(account: Account) -> dict:
    secret = enrolment_secret()
    uri = totp.provisioning_uri(secret, account.identifier)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return {"qr_svg": totp.qr_svg(uri), "secret": grouped}


def _new_codes(account: Account) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = totp.new_recovery_codes(RECOVERY_CODE_COUNT)
    db.session.add_all(RecoveryCode(account_id=account.id, code_hash=totp.hash_recovery_code(c))
                       for c in codes)
    return codes


def confirm_enrolment(account: Account, code: str) -> list[str] | None:
    """With a right first code, save the factor and return the recovery codes (to show
    once); None for a wrong code (nothing saved)."""
    if factor_of(account) is not None:
        return None
    secret = enrolment_secret()
    if not totp.verify(secret, code, replay_key=f"acct:{account.id}"):
        record("second_factor_enrolment_failed", actor=account.identifier)
        return None
    db.session.add(SecondFactor(account_id=account.id, sealed_secret=totp.seal(secret),
                                enabled_at=utcnow(), last_used_at=utcnow()))
    codes = _new_codes(account)
    db.session.flush()
    session.pop(ENROL_KEY, None)
    mark_passed(account)
    record("second_factor_enabled", actor=account.identifier)
    send_notice(account, "second_factor_enabled")
    return codes


def renew_codes(account: Account) -> list[str]:
    """Replace every recovery code (the old ones stop working)."""
    codes = _new_codes(account)
    db.session.flush()
    record("recovery_codes_renewed", actor=account.identifier)
    send_notice(account, "recovery_codes_renewed")
    return codes


def disable(account: Account) -> None:
    """Remove the factor and its codes (the caller checked the password and a code)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    db.session.execute(delete(SecondFactor).where(SecondFactor.account_id == account.id))
    db.session.flush()
    _set_flag(account, "absent")
    record("second_factor_disabled", actor=account.identifier)
    send_notice(account, "second_factor_disabled")
