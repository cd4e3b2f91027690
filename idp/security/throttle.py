"""Brute-force throttling that cannot be turned against a family.

Three counters live in the store, atomic across processes:
- per (IP, account): after LOCKOUT_THRESHOLD failures, a delay that doubles with each
  further failure (capped);
- per account, from any IP: the same growing delay, but only from a higher threshold, so a
  stranger cannot lock a family out with a handful of tries;
- per IP, across accounts: past a high ceiling a growing delay too, but capped to a few
  seconds (`ip_max_delay`): it slows a spraying address without shutting out a school's
  NAT or a carrier's shared address, and it never blocks an account.

Device cookies (security/device_cookies.py, OWASP "Slow Down Online Guessing Attacks with
Device Cookies"): a browser that proved an account before presents its device id. While
that device has fewer than `threshold` failures of its own, no per-IP, per-account or
(IP, account) counter stops it, and its failures count against the device alone; past
that it is an untrusted device like any other.

While a delay runs the password is not even checked; the page says the sign-in is paused
and for how long (`retry_after`), the same for an identifier that exists and one that does
not (the counters are keyed on what was typed). A successful sign-in clears the (IP,
account) counter; a successful reset or the school's "Déverrouiller" (`clear_account`)
clears every counter of the account: the account-wide one and the (IP, account) ones of
every IP, which live under a per-account generation so that one increment retires them all.
The console lists what blocks an account (`account_blocks`) from a small per-account index
of the IPs that failed.

"IP" here is what callers pass: `client_address.client_key()`, an IPv4 address or an IPv6
client's /64 (it owns the whole network), so the console names a blocked /64 as such.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import metrics
from ..audit import record
from ..store import Store


@dataclass
class Throttle:
    store: Store
    threshold: int = 5
    account_threshold: int = 20
    ip_threshold: int = 100
    window: int = 3600
    max_delay: int = 900
    ip_max_delay: int = 10

    @classmethod
    def from_config(cls, store: Store, config) -> "Throttle":
        return cls(store, config["LOCKOUT_THRESHOLD"], config["LOCKOUT_ACCOUNT_THRESHOLD"],
                   config["LOCKOUT_IP_THRESHOLD"], config["LOCKOUT_WINDOW_SECONDS"],
                   config["LOCKOUT_MAX_DELAY_SECONDS"],
                   config.get("LOCKOUT_IP_MAX_DELAY_SECONDS", 10))

    MAX_INDEXED_IPS = 50

    @staticmethod
    def _ident(identifier: str) -> str:
        return identifier.strip().lower()

    def _generation(self, ident: str) -> int:
        return int(self.store.get(f"fail:gen:{ident}") or 0)

    def _keys(self, ip: str, identifier: str) -> tuple[str, str, str]:
        ident = self._ident(identifier)
        return (f"fail:ipacct:{self._generation(ident)}:{ip}:{ident}", f"fail:acct:{ident}",
                f"fail:ip:{ip}")

    def is_blocked(self, ip: str, identifier: str, device: str | None = None) -> bool:
        """True while a delay runs for this IP+account, this account or this IP (never
        for a trusted device: see `device_trusted`)."""
        return self.retry_after(ip, identifier, device) > 0

    def _left(self, key: str) -> int:
        """Seconds a delay has left, at least 1 while it runs (the store rounds down)."""
        return max(self.store.ttl("block:" + key), 1) if self.store.get("block:" + key) else 0

    def retry_after(self, ip: str, identifier: str, device: str | None = None) -> int:
        """Seconds before this IP may try this identifier again (0: not blocked)."""
        return self.pause(ip, identifier, device)[0]

    def pause(self, ip: str, identifier: str,
              device: str | None = None) -> tuple[int, str | None]:
        """(seconds left, scope) of the longest delay in force: scope "ip" when only the
        address is slowed (the page then names no identifier), "account" otherwise; (0,
        None) when free, and always for a trusted device."""
        if self.device_trusted(device):
            return 0, None
        ipacct, acct, ip_key = self._keys(ip, identifier)
        account_left = max(self._left(ipacct), self._left(acct))
        ip_left = self._left(ip_key)
        if account_left <= 0 and ip_left <= 0:
            return 0, None
        if account_left >= ip_left:
            return account_left, "account"
        return ip_left, "ip"

    # -- device cookies ------------------------------------------------------------------
    def device_trusted(self, device: str | None) -> bool:
        """A device cookie (already verified for the account typed) whose own failures
        are under the threshold."""
        return bool(device) and int(self.store.get(f"fail:device:{device}") or 0) < self.threshold

    def _index_ip(self, ident: str, ip: str) -> None:
        """Remember that `ip` failed on this account (best effort, for the console)."""
        key = f"fail:ips:{self._generation(ident)}:{ident}"
        ips = list(self.store.get(key) or [])
        if ip not in ips and len(ips) < self.MAX_INDEXED_IPS:
            self.store.set(key, ips + [ip], self.window)

    def account_blocks(self, identifier: str) -> list[dict]:
        """Every counter that blocks this account now: {"scope": "account" or
        "ip_account", "ip": None or the address, "failures", "seconds" left}."""
        ident = self._ident(identifier)
        _, acct, _ = self._keys("", ident)
        found = []
        left = self._left(acct)
        if left > 0:
            found.append({"scope": "account", "ip": None,
                          "failures": int(self.store.get(acct) or 0), "seconds": left})
        for ip in self.store.get(f"fail:ips:{self._generation(ident)}:{ident}") or []:
            ipacct = self._keys(ip, ident)[0]
            left = self._left(ipacct)
            if left > 0:
                found.append({"scope": "ip_account", "ip": ip,
                              "failures": int(self.store.get(ipacct) or 0), "seconds": left})
        return found

    def record_failure(self, ip: str, identifier: str, device: str | None = None) -> None:
        """A wrong password: from a trusted device it counts against that device only."""
        if self.device_trusted(device):
            count = self.store.incr(f"fail:device:{device}", self.window)
            if count == self.threshold:
                record("lockout_started", target=identifier.strip().lower(), scope="device")
            return
        self._index_ip(self._ident(identifier), ip)
        ipacct, acct, ip_key = self._keys(ip, identifier)
        for scope, key, threshold in (("ip_account", ipacct, self.threshold),
                                      ("account", acct, self.account_threshold),
                                      ("ip", ip_key, self.ip_threshold)):
            count = self.store.incr(key, self.window)
            if count >= threshold:
                cap = self.ip_max_delay if scope == "ip" else self.max_delay
                delay = min(cap, 2 ** min(count - threshold, 30))
                self.store.set("block:" + key, 1, delay)
                if count == threshold:  # the moment a lockout starts is a security event
                    record("lockout_started", target=identifier.strip().lower(), scope=scope)

    def failures(self, identifier: str) -> int:
        return int(self.store.get(self._keys("", identifier)[1]) or 0)

    def clear_success(self, ip: str, identifier: str, device: str | None = None) -> None:
        ipacct, _, _ = self._keys(ip, identifier)
        self.store.delete(ipacct, "block:" + ipacct)
        if device:
            self.store.delete(f"fail:device:{device}")

    def clear_account(self, identifier: str) -> None:
        """After a password reset or a school unlock: the account starts afresh, from every
        IP (the next generation leaves the old (IP, account) counters to expire unread)."""
        ident = self._ident(identifier)
        _, acct, _ = self._keys("", ident)
        self.store.delete(acct, "block:" + acct, f"fail:ips:{self._generation(ident)}:{ident}")
        self.store.incr(f"fail:gen:{ident}", 30 * 86400)


def ip_pace(store: Store, key: str, ceiling: int, max_delay: int, window: int = 3600) -> int:
    """A per-IP limit that slows instead of shutting out (SMS and recovery forms): up to
    `ceiling` requests per `window` pass; the next one waits 1 s, and from then on one
    request passes per delay, doubling each time and capped to `max_delay` seconds.
    Returns the seconds to wait (0: this request may go on). A school's NAT or a
    carrier's shared address keeps working, one request every `max_delay` seconds at
    worst; a request made while the address waits does not lengthen the wait."""
    pace = f"pace:{key}"
    if store.get(pace):
        metrics.THROTTLED.labels(what=key.split(":", 1)[0]).inc()
        return max(store.ttl(pace), 1)
    count = store.incr(key, window)
    if count <= ceiling:
        return 0
    delay = max(1, min(max_delay, 2 ** min(count - ceiling - 1, 30)))
    store.set(pace, 1, delay)
    if count > ceiling + 1:
        return 0
    metrics.THROTTLED.labels(what=key.split(":", 1)[0]).inc()
    return delay
