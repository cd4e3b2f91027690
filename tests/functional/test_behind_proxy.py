"""Behind reverse proxies (IDP_TRUSTED_PROXIES): throttles, audit rows, the recovery and
SMS limits see the client's address, never the proxy's; with 0 the forwarded headers are
ignored; a client cannot choose its address by prepending values; a forwarded value that
is not an address is ignored, never a 500."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from idp import create_app
from idp.config import ConfigError, load, validate
from idp.db import db
from idp.models import AuditEvent

from ..support.browser import Browser
from ..support.signup import Signup

PROXY = "10.0.0.2"  # the peer every request comes from behind nginx


@pytest.fixture(scope="module")
def proxied(settings):
    """A node behind one proxy, on the same database and store as `app`."""
    return create_app({**settings, "TRUSTED_PROXIES": 1})


def _browser(app, peer: str, forwarded: str | None = None, **headers) -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = peer
    if forwarded is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
    for name, value in headers.items():
        client.environ_base["HTTP_" + name.upper()] = value
    return Browser(client)


def _failed_sign_in_seen_from(app, browser, store, identifier="p.inconnu12") -> str:
    """The address the audit row and the throttle's per-IP key name for one failure."""
    page = browser.sign_in(identifier, "Wrong-Pass-2026")
    assert page.status_code == 400 and "Identifiant ou mot de passe incorrect." in page.text
    with app.app_context():
        [ip] = db.session.scalars(select(AuditEvent.ip).where(
            AuditEvent.action == "login_failed")).all()
    assert store.get(f"fail:ip:{ip}") == 1
    return ip


def test_with_no_trusted_proxy_a_forged_forwarded_for_is_ignored(app):
    assert app.config["TRUSTED_PROXIES"] == 0  # the default
    store = app.extensions["idp"]["store"]
    browser = _browser(app, "198.51.100.7", "203.0.113.66", x_forwarded_proto="https")
    assert _failed_sign_in_seen_from(app, browser, store) == "198.51.100.7"
    assert store.get("fail:ip:203.0.113.66") is None


def test_with_one_proxy_the_forwarded_client_address_is_used(proxied):
    store = proxied.extensions["idp"]["store"]
    browser = _browser(proxied, PROXY, "203.0.113.66")
    assert _failed_sign_in_seen_from(proxied, browser, store) == "203.0.113.66"
    assert store.get(f"fail:ip:{PROXY}") is None


def test_with_one_proxy_prepended_addresses_are_never_trusted(proxied):
    """nginx with $proxy_add_x_forwarded_for appends the peer to what the client sent:
    only that last value is the proxy's word."""
    store = proxied.extensions["idp"]["store"]
    browser = _browser(proxied, PROXY, "192.0.2.1, 198.51.100.200,203.0.113.66")
    assert _failed_sign_in_seen_from(proxied, browser, store) == "203.0.113.66"
    assert store.get("fail:ip:192.0.2.1") is None and store.get("fail:ip:198.51.100.200") is None


@pytest.mark.parametrize("forwarded", ["not-an-address", "", "unknown", "1" * 300,
                                       "203.0.113.66, <script>", "::1%" + "x" * 60])
def test_a_forwarded_value_that_is_not_an_address_is_ignored(proxied, forwarded):
    store = proxied.extensions["idp"]["store"]
    browser = _browser(proxied, PROXY, forwarded, x_forwarded_proto="javascript")
    assert _failed_sign_in_seen_from(proxied, browser, store) == PROXY


def test_an_attacker_behind_the_proxy_locks_out_no_other_family(settings, make):
    """The issue's field report: 110 wrong passwords from one address behind nginx, then
    no family could sign in. Now the per-IP ceiling stops the attacker alone."""
    node = create_app({**settings, "TRUSTED_PROXIES": 1, "LOCKOUT_IP_THRESHOLD": 5})
    store = node.extensions["idp"]["store"]
    families = [make.account() for _ in range(3)]
    attacker = _browser(node, PROXY, "203.0.113.66")
    for n in range(8):
        attacker.sign_in(f"p.victime{n + 10}", "Wrong-Pass-2026")
    assert store.get("block:fail:ip:203.0.113.66")
    assert store.get(f"block:fail:ip:{PROXY}") is None
    for n, family in enumerate(families):
        page = _browser(node, PROXY, f"192.0.2.{n + 20}").sign_in(family)
        assert page.request.path == "/", page.text[:300]


def test_the_recovery_limit_counts_each_client_behind_the_proxy(settings, use_smtp):
    node = create_app({**settings, "TRUSTED_PROXIES": 1, "RECOVERY_REQUESTS_PER_IP_HOUR": 2})

    def ask(browser, email):
        browser.get("/recuperation/identifiant")
        return browser.submit("/recuperation/identifiant/email", {"email": email})

    noisy = _browser(node, PROXY, "203.0.113.66")
    assert [ask(noisy, f"x{n}@example.org").status_code for n in range(3)] == [200, 200, 429]
    other = _browser(node, PROXY, "192.0.2.30")
    assert ask(other, "famille@example.org").status_code == 200
    with node.app_context():
        ips = db.session.scalars(select(AuditEvent.ip).where(
            AuditEvent.action == "identifier_recovery")).all()
    assert sorted(ips) == ["192.0.2.30", "203.0.113.66", "203.0.113.66"]


def test_the_recovery_limit_counts_a_forwarded_ipv6_client_as_its_64(settings, use_smtp):
    """An IPv6 client owns its /64: rotating through it does not escape the limit; another
    /64 has its own; the audit rows keep each exact address."""
    node = create_app({**settings, "TRUSTED_PROXIES": 1, "RECOVERY_REQUESTS_PER_IP_HOUR": 2})

    def ask(forwarded, email):
        browser = _browser(node, PROXY, forwarded)
        browser.get("/recuperation/identifiant")
        return browser.submit("/recuperation/identifiant/email", {"email": email}).status_code

    assert [ask(f"2001:db8:66:1::{n + 1}", f"x{n}@example.org") for n in range(3)] \
        == [200, 200, 429]
    assert ask("2001:db8:66:2::1", "famille@example.org") == 200
    with node.app_context():
        ips = db.session.scalars(select(AuditEvent.ip).where(
            AuditEvent.action == "identifier_recovery")).all()
    assert sorted(ips) == ["2001:db8:66:1::1", "2001:db8:66:1::2", "2001:db8:66:2::1"]


def test_the_sms_limit_per_address_counts_each_client_behind_the_proxy(settings):
    node = create_app({**settings, "TRUSTED_PROXIES": 1, "SMS_MAX_PER_IP_HOUR": 2})

    def ask(forwarded: str, phone: str) -> int:
        browser = _browser(node, PROXY, forwarded)
        return Signup(node, browser).identity(phone=phone).status_code

    assert [ask("203.0.113.66", f"06 11 22 33 0{n}") for n in (1, 2, 3)] == [200, 200, 429]
    assert ask("192.0.2.31", "06 11 22 33 04") == 200


def test_the_forwarded_scheme_is_read_from_a_trusted_proxy_only(app, proxied):
    """TLS ends at the proxy: the token endpoint (Authlib refuses plain http for a host that
    is not local) serves a request nginx received over https; without a trusted proxy the
    same header is ignored, and the request gets the protocol's error, not a 500."""
    data = {"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://a/"}
    over_tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.66"}
    behind = proxied.test_client().post("/oidc/token", data=data, headers=over_tls,
                                        base_url="http://idp.example")
    assert behind.status_code == 401 and behind.json["error"] == "invalid_client"
    direct = app.test_client().post("/oidc/token", data=data, headers=over_tls,
                                    base_url="http://idp.example")
    assert direct.status_code == 400 and direct.json["error"] == "invalid_request"
    assert "https" in direct.json["error_description"].lower()
    page = app.test_client().get("/oidc/authorize?client_id=x&response_type=code",
                                 headers=over_tls, base_url="http://idp.example")
    assert page.status_code == 400 and page.location is None
    assert "invalide" in page.text  # our page: the redirect URI is not trusted over http


@pytest.mark.parametrize("value", ["one", -1, 11, True, 1.5])
def test_a_trusted_proxies_setting_that_is_not_a_count_is_refused_in_one_line(settings,
                                                                             value):
    settings = load({**settings, "TRUSTED_PROXIES": value}, environ={})
    with pytest.raises(ConfigError) as refused:
        validate(settings)
    assert "IDP_TRUSTED_PROXIES" in str(refused.value) and "\n" not in str(refused.value)


def test_the_trusted_proxies_setting_is_read_from_the_environment():
    assert load({}, environ={"IDP_TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
    assert load({}, environ={})["TRUSTED_PROXIES"] == 0
