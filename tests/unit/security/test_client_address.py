"""The key per-address limits count a client under: an IPv4 address as is, an IPv6 one as
its /64 (a client usually owns the whole network), an IPv4 address carried in IPv6 as that
IPv4 address, "-" for none."""
from __future__ import annotations

import pytest
from flask import Flask

from idp.security.client_address import client_key, limit_key


@pytest.mark.parametrize("address, key", [
    ("203.0.113.7", "203.0.113.7"),
    ("10.0.0.2", "10.0.0.2"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:0db8:0001:0002:0000:0000:0000:0001", "2001:db8:1:2::/64"),
    ("::1", "::/64"),
    ("fe80::1%eth0", "fe80::/64"),                       # a zone index is dropped
    ("::ffff:192.0.2.1", "192.0.2.1"),                   # IPv4-mapped
    ("::FFFF:c000:201", "192.0.2.1"),
    ("2002:c000:201::1", "192.0.2.1"),                   # 6to4
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"),  # Teredo: the client's IPv4
])
def test_addresses(address, key):
    assert limit_key(address) == key


def test_two_64s_differ_and_one_64_is_one_key():
    assert limit_key("2001:db8:1:2::1") == limit_key("2001:db8:1:2:abcd::9")
    assert limit_key("2001:db8:1:2::1") != limit_key("2001:db8:1:3::1")


@pytest.mark.parametrize("address", [None, ""])
def test_no_address(address):
    assert limit_key(address) == "-"


@pytest.mark.parametrize("address", ["garbage", "unix:/run/idp.sock", "203.0.113.300",
                                     "2001:db8::/64", "1:2:3:4:5:6:7:8:9"])
def test_what_is_not_an_address_is_kept_and_never_raises(address):
    assert limit_key(address) == address


def test_client_key_reads_the_request():
    app = Flask(__name__)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "2001:db8:9:9::5"}):
        assert client_key() == "2001:db8:9:9::/64"
    with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.4"}):
        assert client_key() == "198.51.100.4"
    with app.test_request_context(environ_base={"REMOTE_ADDR": ""}):
        assert client_key() == "-"
