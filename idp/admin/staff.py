"""Staff accounts of the console: creation, password + TOTP sign-in, enrolment, recovery
codes. Behind `idp staff ...` and the console's sign-in pages; flushes, never commits.

Staff sign in under the same brute-force throttle as families, on counters of their own
("staff:" identifiers), so a family and a staff member can never lock each other out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import record
from ..db import db
from ..extensions import passwords, throttle
from ..models import School, StaffAccount, StaffRole, utcnow
from ..security import totp
from ..security.client_address import client_key
from ..security.passwords import policy_problems

IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,62}$")
MIN_LENGTH = 12  # longer than families': a console account reaches thousands of them


class StaffError(ValueError):
    """A staff operation that cannot be done; the message says why (one line)."""


def actor_name(staff: StaffAccount | str) -> str:
    """How a staff member appears in the audit trail (never mistaken for a family)."""
    identifier = staff if isinstance(staff, str) else staff.identifier
    return f"staff:{identifier}"[:64]


def throttle_key(identifier: str) -> str:
    return f"staff:{identifier.strip().lower()}"


def password_problems(identifier: str, password: str) -> list[str]:
    problems = [str(p) for p in policy_problems(password, forbidden=(identifier,))]
    if len(password) < MIN_LENGTH:
        problems.insert(0, _("%(n)d caractères minimum pour un compte de la console.",
                             n=MIN_LENGTH))
    return problems


def _schools(uais: list[str]) -> list[School]:
    wanted = sorted({u.strip().upper() for u in uais if u.strip()})
    rows = db.session.scalars(select(School).where(School.uai.in_(wanted))).all() \
        if wanted else []
    missing = sorted(set(wanted) - {s.uai for s in rows})
    if missing:
        raise StaffError(f"unknown school(s): {', '.join(missing)}")
    return list(rows)


@dataclass
class Enrolment:
    """What is shown once: the TOTP secret (as a provisioning URI) and recovery codes."""
    secret: str
    uri: str
    recovery_codes: list[str]


def create_staff(*, identifier: str, password: str, role: str, schools: list[str] = (),
                 with_totp: bool = False, actor: str | None = None
                 ) -> tuple[StaffAccount, Enrolment | None]:
    """Create a staff account. School staff need at least one school; the others none.
    With `with_totp` the TOTP secret is made now (to print once), otherwise the staff
    member enrols at the first console sign-in."""
    identifier = identifier.strip().lower()
    if not IDENTIFIER.match(identifier):
        raise StaffError(f"invalid identifier {identifier!r} (a-z, 0-9, . _ @ -)")
    try:
        role_value = StaffRole(role)
    except ValueError:
        raise StaffError(f"unknown role {role!r}: operator, school_staff or auditor") from None
    problems = password_problems(identifier, password)
    if problems:
        raise StaffError("password refused: " + " ".join(problems))
    rows = _schools(list(schools))
    if role_value is StaffRole.school_staff and not rows:
        raise StaffError("school staff need at least one school (--school UAI)")
    if role_value is not StaffRole.school_staff and rows:
        raise StaffError("only school staff are assigned schools")
    if db.session.scalar(select(StaffAccount.id).where(StaffAccount.identifier == identifier)):
        raise StaffError(f"a staff account {identifier!r} already exists")
    staff = StaffAccount(identifier=identifier, password_hash=passwords().hash(password),
                         role=role_value, recovery_code_hashes=[])
    staff.schools = rows
    db.session.add(staff)
    db.session.flush()
    enrolment = start_enrolment(staff) if with_totp else None
    if enrolment:
        finish_enrolment(staff, enrolment.secret, enrolment.recovery_codes, audit=False)
    record("staff_created", actor=actor, target=actor_name(staff), role=role_value.value,
           schools=[s.uai for s in rows], totp=bool(enrolment))
    return staff, enrolment


def find_staff(identifier: str) -> StaffAccount | None:
    return db.session.scalar(select(StaffAccount).where(
        StaffAccount.identifier == identifier.strip().lower()))


def require_staff(identifier: str) -> StaffAccount:
    staff = find_staff(identifier)
    if staff is None:
        raise StaffError(f"no staff account {identifier!r}")
    return staff


def check_password(identifier: str, password: str) -> StaffAccount | None:
    """The staff account when the password is right, it is enabled and not throttled;
    None otherwise (same answer and cost for every kind of failure)."""
    identifier = identifier.strip().lower()
    ip, key, guard = client_key(), throttle_key(identifier), throttle()
    if guard.is_blocked(ip, key):
        passwords().verify(None, password)
        guard.record_failure(ip, key)
        record("staff_login_throttled", target=actor_name(identifier))
        return None
    staff = find_staff(identifier)
    if not passwords().verify(staff.password_hash if staff else None, password) \
            or not staff.enabled:
        guard.record_failure(ip, key)
        record("staff_login_failed", target=actor_name(identifier), step="password")
        return None
    if passwords().needs_rehash(staff.password_hash):
        staff.password_hash = passwords().hash(password)
    return staff


def check_second_factor(staff: StaffAccount, code: str) -> bool:
    """A current TOTP code (once) or an unused recovery code (consumed); failures count
    in the same throttle as passwords."""
    ip, key, guard = client_key(), throttle_key(staff.identifier), throttle()
    if guard.is_blocked(ip, key):
        guard.record_failure(ip, key)
        record("staff_login_throttled", target=actor_name(staff), step="code")
        return False
    secret = totp.unseal(staff.totp_secret_sealed or "")
    if secret and totp.verify(secret, code, replay_key=f"staff-{staff.id}"):
        guard.clear_success(ip, key)
        return True
    hashed = totp.hash_recovery_code(code or "")
    if totp.looks_like_recovery_code(code) and hashed in staff.recovery_code_hashes:
        staff.recovery_code_hashes = [h for h in staff.recovery_code_hashes if h != hashed]
        guard.clear_success(ip, key)
        record("staff_recovery_code_used", actor=actor_name(staff),
               remaining=len(staff.recovery_code_hashes))
        return True
    guard.record_failure(ip, key)
    record("staff_login_failed", target=actor_name(staff), step="code")
    return False


def start_enrolment(staff: StaffAccount, secret: str | None = None) -> Enrolment:
    """A secret and recovery codes to show; nothing is stored until they are confirmed."""
    secret = secret or totp.new_secret()
    return Enrolment(secret, totp.provisioning_uri(secret, f"console:{staff.identifier}"),
                     totp.new_recovery_codes())


def finish_enrolment(staff: StaffAccount, secret: str, recovery_codes: list[str],
                     audit: bool = True) -> None:
    staff.totp_secret_sealed = totp.seal(secret)
    staff.totp_enrolled_at = utcnow()
    staff.recovery_code_hashes = [totp.hash_recovery_code(c) for c in recovery_codes]
    if audit:
        record("staff_totp_enrolled", actor=actor_name(staff))


def mark_signed_in(staff: StaffAccount) -> None:
    staff.last_sign_in_at = utcnow()
    record("staff_login", actor=actor_name(staff), role=staff.role.value)


def set_enabled(identifier: str, enabled: bool, actor: str | None = None) -> StaffAccount:
    """Disable (its console sessions end at their next request) or enable again."""
    staff = require_staff(identifier)
    staff.enabled = enabled
    staff.session_epoch += 1
    record("staff_enabled" if enabled else "staff_disabled", actor=actor,
           target=actor_name(staff))
    return staff


def reset_totp(identifier: str, actor: str | None = None) -> StaffAccount:
    """Forget the TOTP secret and recovery codes (a lost phone): enrol again at the next
    sign-in; open sessions end."""
    staff = require_staff(identifier)
    staff.totp_secret_sealed = staff.totp_enrolled_at = None
    staff.recovery_code_hashes = []
    staff.session_epoch += 1
    throttle().clear_account(throttle_key(staff.identifier))
    record("staff_totp_reset", actor=actor, target=actor_name(staff))
    return staff


def list_staff() -> list[dict]:
    rows = db.session.scalars(select(StaffAccount).order_by(StaffAccount.identifier)).all()
    return [{"identifier": s.identifier, "role": s.role.value, "enabled": s.enabled,
             "schools": [school.uai for school in s.schools],
             "totp_enrolled": s.totp_secret_sealed is not None,
             "recovery_codes_left": len(s.recovery_code_hashes or []),
             "last_sign_in_at": s.last_sign_in_at.isoformat() if s.last_sign_in_at else None}
            for s in rows]
