"""J1 "choose who you are": the choice is remembered on the device in a cookie, and an
RP may skip the page with a hint (profile_hint / academy_hint)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context, request, session
from sqlalchemy.exc import SQLAlchemyError

from ...extensions import academies
from ...signin.plan import SignInContext
from ...signin.session import current_account

COOKIE = "idp_wayf"
PROFILES = ("pupil", "parent")
ONE_YEAR = 365 * 86400


@dataclass(frozen=True)
class WayfChoice:
    profile: str
    academy: str

    def encode(self) -> str:
        return f"{self.profile}:{self.academy}"


def for_a_pupil(choice: WayfChoice | None) -> bool:
    """This device chose the "Élève" profile: its pages say "tu"."""
    return choice is not None and choice.profile == "pupil"


def speaks_to_a_pupil() -> bool:
    """Pages say "tu" to pupils and "vous" to everyone else, shared pieces too (the form
    macros, error pages, the messages a view writes): the signed-in account's profile,
    else the profile chosen on this device. A view that knows the account another way (a
    link's token, a verified SMS code) uses its profile instead. On an error page during a
    database outage the account cannot be read: the device's choice then decides, and the
    page still renders. Templates call it too (idp/i18n.py)."""
    if not has_request_context():
        return False
    try:
        account = current_account() if session.get("account_id") else None
    except SQLAlchemyError:
        account = None
    if account is not None:
        return account.profile.value == "pupil"
    return for_a_pupil(current_choice())


def parse_choice(raw: str | None) -> WayfChoice | None:
    """A well-formed, known choice or None (a tampered cookie is simply ignored)."""
    if not raw or ":" not in raw:
        return None
    profile, academy = raw.split(":", 1)
    if profile in PROFILES and academy in academies():
        return WayfChoice(profile, academy)
    return None


def current_choice(ctx: SignInContext | None = None) -> WayfChoice | None:
    """The remembered choice, else the RP's hint."""
    choice = parse_choice(request.cookies.get(COOKIE))
    if choice is None and ctx is not None and ctx.pending is not None:
        choice = parse_choice(f"{ctx.pending.profile_hint}:{ctx.pending.academy_hint}")
    return choice


def is_needed(ctx: SignInContext) -> bool:
    """Asked only before sign-in, and only when neither the device nor the RP tells us."""
    return ctx.account is None and current_choice(ctx) is None


def remember(response, choice: WayfChoice, secure: bool) -> None:
    response.set_cookie(COOKIE, choice.encode(), max_age=ONE_YEAR, secure=secure,
                        httponly=True, samesite="Lax")
