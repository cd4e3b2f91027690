"""The new-device notice and its "Ce n'était pas moi" link (issue 17, point 5).

A sign-in from a browser without a device cookie for the account, nor for an account of
the same family (a parent's or a child's: the family's shared computer), queues a notice
in the sign-in's transaction (the outbox): to the verified email, else by SMS to the
registered mobile, else nothing. It names the device (browser and system, from the
User-Agent) and the time, never an address or another account. Not for a first connection
(the account is not active yet: a pupil's letter) and not when notices are off
(NEW_DEVICE_NOTICE).

The link (a one-time token, 7 days, the newest only) leads to a confirmation; confirmed,
every session and refresh token of the account ends, every device cookie stops counting,
and the family lands on the reset page of a fresh reset link.
"""
from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import or_, select

from ...audit import record
from ...db import db
from ...models import Account, AccountState, GuardianLink, utcnow
from ...notify import external_url, queue_email, queue_sms
from ...security import device_cookies
from ...security.onetime import issue_link_token
from ...signin.session import start_session
from ..account.notices import addressed_as_tu, now_text

PURPOSE = "not_me"
LINK_LIFETIME = timedelta(days=7)

_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser", "Samsung Internet"),
             ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))


def describe_device(user_agent: str | None) -> str:
    """"Firefox sur Windows", from the User-Agent (unknown parts left out)."""
    user_agent = (user_agent or "")[:512]
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} ({system})"
    return browser or system or re.sub(r"[^\w .;/()-]", "", user_agent)[:60] or "?"


def _family_ids(account: Account) -> set[int]:
    rows = db.session.execute(select(GuardianLink.guardian_id, GuardianLink.pupil_id).where(
        or_(GuardianLink.guardian_id == account.id, GuardianLink.pupil_id == account.id)))
    return {account.id} | {i for row in rows for i in row}


def sign_in_here(account: Account, method: str = "pwd", *, notify: bool = True) -> None:
    """Every way in (a password, FranceConnect, a new account) ends here: the SSO session
    opens (signin.session.start_session), this browser holds the account's device cookie,
    and a device new to the family gets the notice. `notify` False for a first
    connection: an account made in this very request, or taken over from its unused
    letter by FranceConnect's first link (nobody else has used it to warn)."""
    known = known_device(account)
    start_session(account, method=method)
    device_cookies.remember(account)
    if notify:
        notify_if_new(account, known)


def known_device(account: Account) -> bool:
    """This browser holds a device cookie for the account or one of its family."""
    names = device_cookies.account_ids()
    return bool(names) and bool(names & _family_ids(account))


def notify_if_new(account: Account, known: bool) -> bool:
    """Queue the notice when the device is new (see the module's docstring)."""
    if known or not current_app.config.get("NEW_DEVICE_NOTICE", True) \
            or account.state != AccountState.active:
        return False
    email = account.email if account.email and account.email_verified else None
    if email is None and not account.phone:
        return False
    token = issue_link_token(account.id, PURPOSE, LINK_LIFETIME)
    locale = account.locale or "fr"
    context = {"first_name": account.first_name, "identifier": account.identifier,
               "device": describe_device(request.user_agent.string), "when": now_text(locale),
               "tu": addressed_as_tu(account),
               "not_me_link": external_url("new_device.not_me", token=token)}
    if email:
        queue_email(to=email, template="new_device", context=context, locale=locale)
    else:
        queue_sms(to=account.phone, template="new_device", context=context, locale=locale)
    record("new_device_notice", actor=account.identifier, channel="email" if email else "sms")
    return True


def revoke_devices(account: Account) -> None:
    """Every device cookie issued so far stops counting for the account."""
    account.devices_revoked_at = utcnow()


def account_for(token_row) -> Account | None:
    account = db.session.get(Account, token_row.account_id)
    return account if account is not None and account.state == AccountState.active else None
