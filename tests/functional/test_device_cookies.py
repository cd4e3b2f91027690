"""Credential stuffing (issue 17, point 1): device cookies. A browser that proved an account
is never stopped by others' failures; its own failures count against its cookie only; an
untrusted browser on an attacking address is slowed. A forged, expired or other account's
cookie is no cookie."""
from __future__ import annotations

import re
import secrets
import time
from html import unescape

from itsdangerous import URLSafeSerializer

from idp.security.device_cookies import SALT

from ..support.accounts import comparable
from ..support.browser import browser_from

ATTACKER = "198.51.100.66"
SLOWED = "Trop d'essais depuis cette connexion internet : la connexion est ralentie."
PAUSED = "Trop d'essais pour cet identifiant : la connexion est suspendue."
COOKIE = "idp_device"


def _device_cookie(browser) -> str | None:
    cookie = browser.client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def _trusted_browser(app, ip, account):
    """A family's browser that signed in once (it holds a device cookie), signed out."""
    browser = browser_from(app, ip)
    assert browser.sign_in(account).request.path == "/"
    assert _device_cookie(browser)
    browser.logout()
    assert _device_cookie(browser)
    return browser


def _signed_in(page) -> bool:
    return page.request.path == "/"


def test_stuffing_from_one_address_spares_trusted_devices_and_other_addresses(app, make):
    """The issue's scenario: 300 failures on random identifiers from one address, then
    (a) a family with a device cookie on that address signs in at once, (b) a family
    without one from another address signs in at once, (c) an untrusted device on the
    attacking address is slowed.

    The attacker waits out each slowdown (deleting the delay's key stands for the seconds
    passing, as in test_throttle). The delay doubles (1, 2, 4... s) with each failure
    past the ceiling, and a request made while it runs is not counted, so 300 requests
    sent without waiting counted only one or two past it: the delay left at the end was
    1 or 2 s, which a loaded machine outlived before (c). Waited out, the failures go on
    counting, and the last delay is the cap, armed a request or two before (a)."""
    with_cookie, elsewhere, untrusted = (make.account() for _ in range(3))
    trusted = _trusted_browser(app, ATTACKER, with_cookie)
    attacker = browser_from(app, ATTACKER)
    attacker.choose("parent", "nancy-metz")
    store = app.extensions["idp"]["store"]
    statuses = []
    for _ in range(300):
        if statuses[-1:] == [429]:
            store.delete(f"block:fail:ip:{ATTACKER}")  # the delay has run out
        page = attacker.submit("/connexion?changer=1", {
            "identifier": f"p.{secrets.token_hex(4)}{secrets.randbelow(99)}",
            "password": "Azerty123!"})
        statuses.append(page.status_code)
    assert statuses.count(400) >= app.config["LOCKOUT_IP_THRESHOLD"]
    assert 429 in statuses  # past the ceiling the address was slowed
    # (a)
    assert _signed_in(trusted.sign_in(with_cookie))
    # (b)
    assert _signed_in(browser_from(app, "192.0.2.80").sign_in(elsewhere))
    # (c): slowed a few seconds at most, with a message that names no identifier
    page = browser_from(app, ATTACKER).sign_in(untrusted)
    assert page.status_code == 429 and SLOWED in unescape(page.text)
    wait = int(re.search(r"Réessayez dans (\d+) secondes?", unescape(page.text)).group(1))
    assert 1 <= wait <= app.config["LOCKOUT_IP_MAX_DELAY_SECONDS"]


def test_a_trusted_device_is_not_locked_out_by_a_strangers_failures(app, make):
    parent = make.account()
    trusted = _trusted_browser(app, "192.0.2.81", parent)
    for i in range(app.config["LOCKOUT_ACCOUNT_THRESHOLD"] + 2):
        browser_from(app, f"198.51.100.{i + 1}").sign_in(parent.identifier, "Wrong-Pass-2026")
    assert PAUSED in unescape(browser_from(app, "192.0.2.82").sign_in(parent).text)
    assert _signed_in(trusted.sign_in(parent))


def test_failures_from_a_trusted_device_count_against_it_alone(app, make):
    store = app.extensions["idp"]["store"]
    parent = make.account()
    trusted = _trusted_browser(app, "192.0.2.83", parent)
    for _ in range(app.config["LOCKOUT_THRESHOLD"] - 1):
        page = trusted.sign_in(parent.identifier, "Wrong-Pass-2026")
        assert "Identifiant ou mot de passe incorrect." in unescape(page.text)
    assert store.get(f"fail:acct:{parent.identifier}") is None
    assert store.get("fail:ip:192.0.2.83") is None
    assert _signed_in(trusted.sign_in(parent))  # success clears the device's count
    # Past the threshold the device is untrusted again, and the usual counters run.
    for _ in range(app.config["LOCKOUT_THRESHOLD"] + 5):
        trusted.sign_in(parent.identifier, "Wrong-Pass-2026")
    page = trusted.sign_in(parent)
    assert page.status_code == 429 and PAUSED in unescape(page.text)
    # ...while the family's other browsers are not concerned by that device's failures.
    assert int(store.get(f"fail:acct:{parent.identifier}") or 0) \
        < app.config["LOCKOUT_ACCOUNT_THRESHOLD"]


def _lock_account(app, identifier):
    for i in range(app.config["LOCKOUT_ACCOUNT_THRESHOLD"]):
        browser_from(app, f"203.0.113.{i + 1}").sign_in(identifier, "Wrong-Pass-2026")


def _with_cookie(app, ip, value):
    browser = browser_from(app, ip)
    browser.client.set_cookie(COOKIE, value)
    return browser


def test_a_forged_cookie_is_no_cookie(app, make):
    parent = make.account()
    _lock_account(app, parent.identifier)
    forged = URLSafeSerializer("not the secret key" * 3, salt=SALT).dumps(
        [[parent.id, "forged-device", int(time.time())]])
    for value in (forged, "garbage", "x" * 4000, forged[:-3] + "abc"):
        page = _with_cookie(app, "192.0.2.84", value).sign_in(parent)
        assert page.status_code == 429 and PAUSED in unescape(page.text)


def test_an_expired_cookie_is_no_cookie(app, make):
    parent = make.account()
    _lock_account(app, parent.identifier)
    days = app.config["DEVICE_COOKIE_DAYS"]
    old = URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT).dumps(
        [[parent.id, "old-device", int(time.time()) - (days + 1) * 86400]])
    page = _with_cookie(app, "192.0.2.85", old).sign_in(parent)
    assert page.status_code == 429 and PAUSED in unescape(page.text)
    fresh = URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT).dumps(
        [[parent.id, "new-device", int(time.time()) - 86400]])
    assert _signed_in(_with_cookie(app, "192.0.2.85", fresh).sign_in(parent))


def test_another_accounts_cookie_is_no_cookie(app, make):
    parent, other = make.account(), make.account()
    browser = _trusted_browser(app, "192.0.2.86", other)
    _lock_account(app, parent.identifier)
    page = browser.sign_in(parent)
    assert page.status_code == 429 and PAUSED in unescape(page.text)
    # A shared family computer keeps both accounts' cookies.
    _lock_account(app, other.identifier)
    assert _signed_in(browser.sign_in(other))


def test_the_throttled_answers_are_the_same_for_an_unknown_identifier(app, make):
    """Slowed address or paused identifier: the page is the same whether the identifier
    exists or not, and names no other account."""
    parent = make.account()
    for scope_ip, prepare in (("198.51.100.200", "ip"), ("198.51.100.201", "account")):
        pages = []
        for identifier in (parent.identifier, "x.personne9"):
            if prepare == "ip":
                store = app.extensions["idp"]["store"]
                store.set(f"block:fail:ip:{scope_ip}", 1, 5)
            else:
                _lock_account(app, identifier)
            page = browser_from(app, scope_ip).sign_in(identifier, "Azerty-Famille-2026")
            assert page.status_code == 429
            pages.append(re.sub(r"\d+ secondes?|\d+ minutes?", "N",
                                comparable(page.text, identifier)))
        assert pages[0] == pages[1]


def test_a_revoked_device_is_no_longer_trusted(app, make):
    from idp.db import db
    from idp.models import Account, utcnow

    parent = make.account()
    trusted = _trusted_browser(app, "192.0.2.87", parent)
    with app.app_context():
        account = db.session.get(Account, parent.id)
        account.devices_revoked_at = utcnow()
        db.session.commit()
    _lock_account(app, parent.identifier)
    assert trusted.sign_in(parent).status_code == 429
