"""Security notices: a family hears of every change to its sign-in details on the address
it had before, so a change it did not make does not go unnoticed.

A notice goes to the account's verified email; an account without one gets it by SMS on
its registered mobile; an account with neither gets nothing (it can only be helped by the
school, seed 004). An email change is told to the *previous* address, with a link that
undoes it ("Ce n'est pas moi"): email_change_report.py.
"""
from __future__ import annotations

from flask_babel import force_locale, format_datetime, gettext

from ...models import Account, AccountProfile, utcnow
from ...notify import external_url, queue_email, queue_sms

# Kinds of change a notice can tell (the sentence for each is in the templates).
KINDS = ("password_changed", "password_reset", "phone_changed", "second_factor_enabled",
         "second_factor_disabled", "recovery_codes_renewed", "recovery_code_used")


def addressed_as_tu(account: Account | None) -> bool:
    """A pupil reads "tu" (as in the pupils' letter), a parent "vous": the pages, and the
    messages written to the account's owner (context `tu`; notify.outbox says "vous" by
    default)."""
    return account is not None and account.profile == AccountProfile.pupil


def now_text(locale: str) -> str:
    """Now, as a notice says it ("4 décembre 2026 à 15:40"), in the account's language
    (month names, word order), like the rest of the notice; the new-device notice too."""
    with force_locale(locale):
        return format_datetime(utcnow(), gettext("d MMMM y 'à' HH:mm"))


def notice_context(account: Account, kind: str, **extra) -> dict:
    """What every notice template reads (the email-change report adds its link)."""
    return {"kind": kind, "first_name": account.first_name, "identifier": account.identifier,
            "tu": addressed_as_tu(account),
            "when": now_text(account.locale or "fr"),
            "reset_link": external_url("recovery.password_start"),
            "account_link": external_url("account.index"), **extra}


def send_notice(account: Account, kind: str, **extra) -> None:
    """Queue the notice of `kind` (in this transaction) on the account's channel."""
    if kind not in KINDS:
        raise ValueError(kind)
    context = notice_context(account, kind, **extra)
    locale = account.locale or "fr"
    if account.email and account.email_verified:
        queue_email(to=account.email, template="security_notice", context=context,
                    locale=locale)
    elif account.phone:
        queue_sms(to=account.phone, template="security_notice", context=context,
                  locale=locale)

