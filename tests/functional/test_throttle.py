"""Brute force: a growing delay after 5 failures. A throttled sign-in says so with the wait
and a way out ("Mot de passe oublié ?"), the same for an identifier that exists and one
that does not (issue 21, point 1)."""
from __future__ import annotations

import re
from html import unescape

from ..support.accounts import comparable
from ..support.browser import browser_from

PAUSED = "Trop d'essais pour cet identifiant : la connexion est suspendue."


def test_after_five_failures_even_the_right_password_is_refused(app, make):
    parent = make.account()
    browser = browser_from(app, "203.0.113.7")
    for _ in range(5):
        page = browser.sign_in(parent.identifier, "Wrong-Pass-2026")
        assert "Identifiant ou mot de passe incorrect." in page.text
    page = browser.sign_in(parent.identifier, parent.password)
    assert page.status_code == 429
    text = unescape(page.text)
    assert PAUSED in text and "Identifiant ou mot de passe incorrect." not in text
    assert re.search(r"Réessayez dans \d+ secondes?, ou choisissez « Mot de passe oublié \? »",
                     text)
    assert 'href="/recuperation/mot-de-passe"' in page.text


def test_the_throttled_answer_is_the_same_for_an_unknown_identifier(app, make):
    parent = make.account()
    pages = []
    for n, identifier in enumerate((parent.identifier, "x.personne9")):
        browser = browser_from(app, f"203.0.113.{20 + n}")
        for _ in range(5):
            browser.sign_in(identifier, "Wrong-Pass-2026")
        page = browser.sign_in(identifier, parent.password)
        assert page.status_code == 429 and PAUSED in unescape(page.text)
        pages.append(re.sub(r"\d+ secondes?", "N", comparable(page.text, identifier)))
    assert pages[0] == pages[1]


def test_the_family_elsewhere_is_not_locked_out_by_a_stranger(app, make):
    parent = make.account()
    attacker = browser_from(app, "198.51.100.9")
    for _ in range(6):
        attacker.sign_in(parent.identifier, "Wrong-Pass-2026")
    family = browser_from(app, "192.0.2.44")
    assert family.sign_in(parent.identifier, parent.password).request.path == "/"


def test_many_ips_against_one_account_trip_the_account_counter(app, make):
    parent = make.account()
    threshold = app.config["LOCKOUT_ACCOUNT_THRESHOLD"]
    for i in range(threshold):
        browser_from(app, f"198.51.100.{i + 1}").sign_in(parent.identifier, "Wrong-Pass-2026")
    page = browser_from(app, "192.0.2.44").sign_in(parent.identifier, parent.password)
    assert PAUSED in unescape(page.text)


def test_the_delay_grows_and_then_expires(app, make):
    store = app.extensions["idp"]["store"]
    parent = make.account()
    browser = browser_from(app, "203.0.113.8")
    for _ in range(5):
        browser.sign_in(parent.identifier, "Wrong-Pass-2026")
    key = f"block:fail:ipacct:0:203.0.113.8:{parent.identifier}"
    first = store.ttl(key)
    assert store.get(key)
    # Trying during the delay checks no password, so it does not lengthen the wait shown.
    for _ in range(3):
        browser.sign_in(parent.identifier, parent.password)
    assert store.ttl(key) <= first
    store.delete(key)  # the delay has run out
    browser.sign_in(parent.identifier, "Wrong-Pass-2026")  # one more failure: longer
    assert store.ttl(key) > first
    store.delete(key)
    assert browser.sign_in(parent.identifier, parent.password).request.path == "/"


def test_success_clears_the_ip_account_counter(app, make):
    store = app.extensions["idp"]["store"]
    parent = make.account()
    browser = browser_from(app, "203.0.113.9")
    for _ in range(3):
        browser.sign_in(parent.identifier, "Wrong-Pass-2026")
    browser.sign_in(parent.identifier, parent.password)
    assert store.get(f"fail:ipacct:0:203.0.113.9:{parent.identifier}") is None


def test_the_start_of_a_lockout_is_audited(app, make):
    from idp.db import db
    from idp.models import AuditEvent

    parent = make.account()
    browser = browser_from(app, "203.0.113.10")
    for _ in range(6):
        browser.sign_in(parent.identifier, "Wrong-Pass-2026")
    with app.app_context():
        events = db.session.query(AuditEvent).filter_by(action="lockout_started").all()
        assert [(e.target, e.details["scope"]) for e in events] == [
            (parent.identifier, "ip_account")]


# -- IPv6: a client owns a whole /64 ---------------------------------------------------------
def test_the_lockout_holds_across_the_addresses_of_one_ipv6_64(app, make):
    """An IPv6 client usually owns a /64: rotating through it must not reset the (IP,
    account) counter, nor the per-IP one."""
    store = app.extensions["idp"]["store"]
    parent = make.account()
    for n in range(5):
        page = browser_from(app, f"2001:db8:5:6::{n + 1:x}").sign_in(parent.identifier,
                                                                      "Wrong-Pass-2026")
        assert "Identifiant ou mot de passe incorrect." in page.text
    assert store.get(f"fail:ipacct:0:2001:db8:5:6::/64:{parent.identifier}") == 5
    assert store.get("fail:ip:2001:db8:5:6::/64") == 5
    page = browser_from(app, "2001:db8:5:6:ffff:1:2:3").sign_in(parent.identifier,
                                                               parent.password)
    assert page.status_code == 429 and PAUSED in unescape(page.text)


def test_another_ipv6_64_is_not_locked_out(app, make):
    parent = make.account()
    for n in range(6):
        browser_from(app, f"2001:db8:5:7::{n + 1:x}").sign_in(parent.identifier,
                                                              "Wrong-Pass-2026")
    family = browser_from(app, "2001:db8:5:8::1")
    assert family.sign_in(parent.identifier, parent.password).request.path == "/"


def test_an_ipv4_mapped_address_shares_the_ipv4_counters(app, make):
    store = app.extensions["idp"]["store"]
    parent = make.account()
    browser_from(app, "::ffff:203.0.113.30").sign_in(parent.identifier, "Wrong-Pass-2026")
    assert store.get(f"fail:ipacct:0:203.0.113.30:{parent.identifier}") == 1


def test_ipv4_addresses_are_still_counted_one_by_one(app, make):
    store = app.extensions["idp"]["store"]
    parent = make.account()
    for _ in range(5):
        browser_from(app, "203.0.113.31").sign_in(parent.identifier, "Wrong-Pass-2026")
    assert store.get(f"fail:ipacct:0:203.0.113.31:{parent.identifier}") == 5
    neighbour = browser_from(app, "203.0.113.32")
    assert neighbour.sign_in(parent.identifier, parent.password).request.path == "/"


def test_the_audit_row_keeps_the_exact_ipv6_address(app, make):
    from idp.db import db
    from idp.models import AuditEvent

    parent = make.account()
    browser_from(app, "2001:db8:5:9::abcd").sign_in(parent.identifier, "Wrong-Pass-2026")
    with app.app_context():
        [event] = db.session.query(AuditEvent).filter_by(action="login_failed").all()
        assert event.ip == "2001:db8:5:9::abcd"
