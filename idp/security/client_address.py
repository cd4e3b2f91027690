"""The client's address behind trusted reverse proxies (IDP_TRUSTED_PROXIES).

Throttles, audit rows and SMS/recovery limits all read `request.remote_addr`; nothing
reads X-Forwarded-For by hand. Behind N proxies the peer is the nearest proxy, so werkzeug's
ProxyFix replaces it with the N-th value of X-Forwarded-For counted from the right: the
address the outermost trusted proxy saw. Values a client writes itself are to the left of
it and never read, so prepending addresses spoofs nothing. With 0 (the default) no
forwarded header is read at all.

X-Forwarded-Proto is trusted on the same count (TLS ends at the proxy, and Authlib refuses
plain http for a host that is not local). X-Forwarded-Host is never trusted: the proxy
passes Host itself, and every link we build comes from IDP_BASE_URL, never from a header.

A trusted value that is not an IP address (or a scheme other than http/https) is a proxy
misconfigured or bypassed: the peer's own values are kept, so it can neither fill the
audit column with text nor split the throttles' keys.

Every per-address limit (sign-in lockout, SMS and recovery paces, the waiting room's share,
the pacing of refused requests) counts under `client_key()`, not the address itself: an
IPv6 client usually owns a whole /64 and could otherwise rotate through it to escape them.
Audit rows and logs keep the exact address.
"""
from __future__ import annotations

import ipaddress
import logging

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

_MAX_ADDRESS = 45  # the audit column's width; the longest textual IPv6 address
_V6_PREFIX = 64    # the network an IPv6 client is assumed to own (RFC 6177, SLAAC)


def behind_proxies(wsgi_app, count: int):
    """`wsgi_app` reading the client's address and scheme from `count` trusted proxies
    (the app itself when `count` is 0)."""
    if not count:
        return wsgi_app
    return ProxyFix(_checked(wsgi_app), x_for=count, x_proto=count, x_host=0, x_port=0,
                    x_prefix=0)


def _checked(wsgi_app):
    def app(environ, start_response):
        original = environ.get("werkzeug.proxy_fix.orig", {})
        if not _is_address(environ.get("REMOTE_ADDR")):
            log.warning("X-Forwarded-For from %s is not an address: ignored",
                        original.get("REMOTE_ADDR"))
            environ["REMOTE_ADDR"] = original.get("REMOTE_ADDR")
        if environ.get("wsgi.url_scheme") not in ("http", "https"):
            environ["wsgi.url_scheme"] = original.get("wsgi.url_scheme", "http")
        return wsgi_app(environ, start_response)

    return app


def _is_address(value) -> bool:
    if not isinstance(value, str) or len(value) > _MAX_ADDRESS:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True



def limit_key(address: str | None) -> str:
    """The key per-address limits count `address` under: an IPv4 address as is; an IPv6
    address as its /64 ("2001:db8:1:2::/64"); an IPv6 address carrying an IPv4 one
    (::ffff:a.b.c.d, 6to4, Teredo) as that IPv4 address, so that it shares its limits;
    "-" when there is none. A value that is not an address (never one from a client:
    REMOTE_ADDR comes from the socket or a checked proxy) is kept as it is."""
    if not address:
        return "-"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
    if embedded is not None:
        return str(embedded)
    # From the integer: drops a zone index (fe80::1%eth0) the network would refuse.
    return str(ipaddress.IPv6Network((int(ip) >> (128 - _V6_PREFIX) << (128 - _V6_PREFIX),
                                      _V6_PREFIX)))


def client_key() -> str:
    """`limit_key` of this request's client (in a request context)."""
    return limit_key(request.remote_addr)
