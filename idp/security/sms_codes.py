"""Six-digit security codes sent by SMS, and the limits on sending any SMS to a number.

The API every journey uses (sign-up J4, password reset and mobile change in recovery):

    send_code(*, phone, purpose, transaction, locale="fr") -> SendOutcome(sent, retry_after)
    check_code(*, phone, purpose, transaction, code) -> None, or SmsCodeError(.reason)
    withhold_code(...)  same accounting as send_code, but nothing (or another message,
                        `instead`) reaches the phone: the answer for details that match no
                        record, so a stranger cannot tell them apart (no enumeration); with
                        no phone at all, `stand_in` (e.g. an identifier without a mobile)
                        takes the number's place in every limit

A code (SECURITY.md, One-time secrets; ASVS 6.6.3):
- is 6 random digits, stored only as an HMAC (keyed with SMS_CODE_KEY, a key of its
  own, so a copy of the store does not give the codes away by trying the million of
  them; changing the key only voids the codes of the last minutes) bound to the phone,
  the purpose and the caller's transaction, in the store with a TTL;
- is valid SMS_CODE_MINUTES (default 10, ASVS 6.5.5), used once, dies after
  SMS_CODE_MAX_ATTEMPTS wrong entries (an atomic counter: concurrent guesses cannot get
  more tries), and is replaced by a new one on "Renvoyer le SMS";
- may be typed with spaces or hyphens ("123 456").

Sending is limited per number (a wait before the same purpose's next SMS, doubling with
each of them that day, and a daily cap over every purpose), per IP per hour and globally
per day: SMS pumping costs money and annoys families. The wait is per purpose because
another purpose is not a resend: a family that forgot both its identifier and its password
gets the identifier by SMS, then at once the password-reset code.
Every limit lives in the store, atomic across processes; if the store is down,
StoreUnavailable propagates and the page answers 503, never an unlimited send.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l

from ..audit import record
from ..extensions import store
from ..notify import queue_sms
from ..notify.outbox import _render
from .client_address import client_key
from .throttle import ip_pace
from .mobile_numbers import is_allowed

# The time source; tests move it forward instead of sleeping.
clock = time.time

DAY = 86400
HOUR = 3600
_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_SEPARATORS = re.compile(r"[\s\-.]")
_CODE = re.compile(r"^[0-9]{6}$")
_STAND_IN = "stand-in:"  # the prefix of what withhold_code counts when there is no phone
# What the SMS says the code is for (unknown purposes: no phrase).
PURPOSE_TEXTS = {
    "signup": _l("pour créer votre compte"),
    "password_reset": _l("pour changer votre mot de passe"),
    "phone_change": _l("pour confirmer votre nouveau numéro"),
    "franceconnect": _l("pour relier FranceConnect à votre compte"),
}
# A pupil's own code (`tu`): a password reset or a new number, from Mon compte.
PURPOSE_TEXTS_TU = {
    "password_reset": _l("pour changer ton mot de passe"),
    "phone_change": _l("pour confirmer ton nouveau numéro"),
}


class Refusal(StrEnum):
    """Which sending limit holds."""
    wait = "wait"        # this number just got an SMS (the wait doubles each time)
    number = "number"    # the number's daily cap
    ip = "ip"            # too many asked from this IP this hour
    budget = "global"    # every SMS of the day (the gateway budget)


class CodeProblem(StrEnum):
    """Why a code does not open the door."""
    wrong = "wrong"      # attempts_left more tries
    expired = "expired"
    dead = "dead"        # too many wrong entries
    unknown = "unknown"  # no code for this phone, purpose and transaction, or already used


@dataclass(frozen=True)
class SendOutcome:
    """`sent`: the SMS is queued (or, for withhold_code, would have been). `retry_after`:
    seconds before this number may get another SMS (when refused: how long to wait).
    `reason`: the Refusal when refused."""
    sent: bool
    retry_after: int
    reason: Refusal | None = None


class SmsCodeError(Exception):
    """A code that does not open the door: `reason` (a CodeProblem) and, when wrong,
    `attempts_left`."""

    def __init__(self, reason: CodeProblem | str, attempts_left: int | None = None):
        super().__init__(reason)
        self.reason = CodeProblem(reason)
        self.attempts_left = attempts_left


def _config(name: str):
    return current_app.config[name]


def code_minutes() -> float:
    return float(_config("SMS_CODE_MINUTES"))


def minutes_text() -> str:
    """'10' (or '0.5' in a test): the validity as the pages and the SMS say it."""
    minutes = code_minutes()
    return str(int(minutes)) if minutes == int(minutes) else f"{minutes:g}"


def normalise_code(raw: str | None) -> str | None:
    """The 6 digits of a typed code ('123 456', '123-456', full-width digits), or None."""
    value = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or ""))
    return value if _CODE.match(value) else None


def _key(purpose: str, transaction: str) -> str:
    if not _PURPOSE.match(purpose) or not transaction or len(transaction) > 128:
        raise ValueError("purpose must be a short name, transaction a non-empty id")
    return f"smscode:{purpose}:{transaction}"


def _digest(phone: str, purpose: str, transaction: str, nonce: str, code: str) -> str:
    message = f"{purpose}|{transaction}|{phone}|{nonce}|{code}".encode()
    return hmac.new(str(_config("SMS_CODE_KEY")).encode(), message, hashlib.sha256).hexdigest()


def _client_ip() -> str | None:
    return client_key() if has_request_context() else None


def _seconds_to_midnight_utc(now: float) -> int:
    moment = datetime.fromtimestamp(now, timezone.utc)
    return DAY - (moment.hour * HOUR + moment.minute * 60 + moment.second)


def wait_key(phone: str, purpose: str) -> str:
    """The store key of the wait before `phone` may get another SMS for `purpose`."""
    return f"sms-wait:{phone}:{purpose}"


def _reserve(phone: str, purpose: str, now: float) -> SendOutcome:
    """Take one SMS from every limit, or say which limit refuses and for how long."""
    s = store()
    waiting = wait_key(phone, purpose)
    left = s.ttl(waiting)
    if left > 0:
        return SendOutcome(False, left, Refusal.wait)
    number_key = f"sms-number:{phone}"
    sent_today = s.incr(number_key, DAY)
    if sent_today > int(_config("SMS_MAX_PER_NUMBER_DAY")):
        return SendOutcome(False, s.ttl(number_key) or DAY, Refusal.number)
    ip = _client_ip()
    if ip is not None:
        # Past the hourly ceiling an address is slowed (a growing wait, capped), never
        # shut: a school's NAT or a carrier's shared address still gets its SMS.
        wait = ip_pace(s, f"sms-ip:{ip}", int(_config("SMS_MAX_PER_IP_HOUR")),
                       int(_config("SMS_IP_MAX_DELAY_SECONDS")), HOUR)
        if wait > 0:
            return SendOutcome(False, wait, Refusal.ip)
    day = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%d")
    if s.incr(f"sms-day:{day}", 2 * DAY) > int(_config("SMS_MAX_PER_DAY")):
        return SendOutcome(False, _seconds_to_midnight_utc(now), Refusal.budget)
    base = int(_config("SMS_RESEND_SECONDS"))
    if base <= 0:
        return SendOutcome(True, 0)
    # 30 s after the purpose's first SMS of the day, then 1 min, 2 min...: a resend loop
    # runs dry (and the daily cap above holds across purposes).
    resends = s.incr(f"sms-sent:{phone}:{purpose}", DAY)
    delay = min(base * 2 ** (resends - 1), DAY)
    if not s.add(waiting, 1, delay):  # a concurrent send took the slot first
        return SendOutcome(False, s.ttl(waiting) or base, Refusal.wait)
    return SendOutcome(True, delay)


def _checked(phone: str) -> str:
    if not is_allowed(phone):
        raise ValueError("codes go to French (metropolitan or overseas) mobiles only")
    return phone


def _stand_in(what: str) -> str:
    """The 'number' a stand-in counts as: never a phone (no '+'), so never delivered to
    and never sharing a limit with a real number."""
    if not what or len(what) > 128:
        raise ValueError("a stand-in is a short non-empty string")
    return _STAND_IN + what


def _issue(phone: str, purpose: str, transaction: str, locale: str, deliver: bool,
           instead: tuple[str, dict] | None, tu: bool = False) -> SendOutcome:
    """`phone`: a checked mobile, or a stand-in (then deliver is False, instead None)."""
    key = _key(purpose, transaction)
    now = clock()
    outcome = _reserve(phone, purpose, now)
    if not outcome.sent:
        record("sms_refused", target=_masked(phone), purpose=purpose, limit=outcome.reason)
        return outcome
    code = f"{secrets.randbelow(10 ** 6):06d}"
    nonce = secrets.token_hex(8)
    ttl = int(code_minutes() * 60) + HOUR  # kept an hour longer to answer "expired"
    store().set(key, {"phone": phone, "nonce": nonce, "expires": now + code_minutes() * 60,
                      "hash": _digest(phone, purpose, transaction, nonce, code)}, ttl)
    context = {"code": code, "minutes": minutes_text(), "tu": tu,
               "purpose_text": (tu and PURPOSE_TEXTS_TU.get(purpose))
               or PURPOSE_TEXTS.get(purpose, "")}
    if deliver:
        queue_sms(to=phone, template="security_code", context=context, locale=locale)
    elif instead is not None:
        queue_sms(to=phone, template=instead[0], context=instead[1], locale=locale)
    else:  # the same work as a real send, minus the message (comparable timing)
        _render("sms/security_code.txt", context, locale)
    record("sms_code_issued", target=_masked(phone), purpose=purpose)
    return outcome


def send_code(*, phone: str, purpose: str, transaction: str, locale: str = "fr",
              tu: bool = False) -> SendOutcome:
    """Queue an SMS with a new code for `phone` (E.164, a French mobile), bound to
    `purpose` and `transaction`; the older code of that transaction stops working.
    Refused (sent=False) while a limit holds; flushes the outbox row, never commits.
    `tu`: the phone is a pupil's own (the SMS says "tu", else "vous")."""
    return _issue(_checked(phone), purpose, transaction, locale, True, None, tu)


def withhold_code(*, phone: str | None = None, purpose: str, transaction: str,
                  locale: str = "fr", instead: tuple[str, dict] | None = None,
                  stand_in: str | None = None) -> SendOutcome:
    """Everything send_code does (limits, a stored code, an audit line) except that the
    code never reaches the phone: for details that match no record. With `instead`
    (template, context) that SMS is sent in its place (e.g. "you already have an
    account: your identifier is...").

    Without a phone (details that name no mobile at all: a password reset for an
    identifier without one), `stand_in` (what was asked, e.g. the normalised identifier)
    takes the number's place in every limit (the wait, the daily cap per number, the
    pace per IP, the daily budget), so the answers are those a real number gets."""
    if phone is None:
        if instead is not None:
            raise ValueError("a stand-in has no phone to send anything to")
        return _issue(_stand_in(stand_in or ""), purpose, transaction, locale, False, None)
    return _issue(_checked(phone), purpose, transaction, locale, False, instead)


def check_code(*, phone: str, purpose: str, transaction: str, code: str) -> None:
    """Return when `code` is the live code of this phone, purpose and transaction (it is
    then used up); raise SmsCodeError otherwise. Every check of a live code counts,
    atomically: after SMS_CODE_MAX_ATTEMPTS wrong ones the code is dead."""
    s = store()
    key = _key(purpose, transaction)
    stored = s.get(key)
    if stored is None or not hmac.compare_digest(stored["phone"].encode(), phone.encode()):
        raise SmsCodeError(CodeProblem.unknown)
    if clock() >= stored["expires"]:
        raise SmsCodeError(CodeProblem.expired)
    limit = int(_config("SMS_CODE_MAX_ATTEMPTS"))
    tries_key = f"smscode-tries:{stored['nonce']}"
    tries = s.incr(tries_key, max(s.ttl(key), 1))
    if tries > limit:
        raise SmsCodeError(CodeProblem.dead, 0)
    digits = normalise_code(code)
    expected = stored["hash"]
    candidate = _digest(phone, purpose, transaction, stored["nonce"], digits or "-")
    if digits is not None and hmac.compare_digest(candidate, expected):
        taken = s.take(key)
        if taken is None or taken.get("nonce") != stored["nonce"]:
            if taken is not None:  # a resend replaced it meanwhile: leave the new one
                s.set(key, taken, max(int(taken["expires"] - clock()) + HOUR, 1))
            raise SmsCodeError(CodeProblem.unknown)
        s.delete(tries_key)
        record("sms_code_verified", target=_masked(phone), purpose=purpose)
        return
    record("sms_code_failed", target=_masked(phone), purpose=purpose, tries=tries)
    if tries >= limit:
        raise SmsCodeError(CodeProblem.dead, 0)
    raise SmsCodeError(CodeProblem.wrong, limit - tries)


def _masked(phone: str) -> str:
    """'+33 6** ** *4 78' style: enough for support, not the number (audit lines); a
    stand-in is only said to be one (the caller's own line names what was asked)."""
    if phone.startswith(_STAND_IN):
        return "stand-in"
    return phone[:4] + "*" * max(len(phone) - 6, 0) + phone[-2:]
