"""Brute-force throttling that cannot be turned against a family.

Three counters live in the store, atomic across processes:
- per (IP, account): after LOCKOUT_THRESHOLD failures, a delay that doubles with each
  further failure (capped);
- per account, from any IP: the same growing delay, but only from a higher threshold, so a
  stranger cannot lock a family out with a handful of tries;
- per IP, across accounts: a high ceiling against spraying.

While a delay runs the password is not even checked; the page says the sign-in is paused
and for how long (`retry_after`), the same for an identifier that exists and one that does
not (the counters are keyed on what was typed). A successful sign-in clears the (IP,
account) counter; a successful reset or the school's "Déverrouiller" (`clear_account`)
clears every counter of the account: the account-wide one and the (IP, account) ones of
every IP, which live under a per-account generation so that one increment retires them all.
The console lists what blocks an account (`account_blocks`) from a small per-account index
of the IPs that failed.
"""
from __future__ import annotations

from dataclasses import dataclass

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

    @classmethod
    def from_config(cls, store: Store, config) -> "Throttle":
        return cls(store, config["LOCKOUT_THRESHOLD"], config["LOCKOUT_ACCOUNT_THRESHOLD"],
                   config["LOCKOUT_IP_THRESHOLD"], config["LOCKOUT_WINDOW_SECONDS"],
                   config["LOCKOUT_MAX_DELAY_SECONDS"])

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

    def is_blocked(self, ip: str, identifier: str) -> bool:
        """True while a delay runs for this IP+account, this account or this IP."""
        return self.retry_after(ip, identifier) > 0

    def _left(self, key: str) -> int:
        """Seconds a delay has left, at least 1 while it runs (the store rounds down)."""
        return max(self.store.ttl("block:" + key), 1) if self.store.get("block:" + key) else 0

    def retry_after(self, ip: str, identifier: str) -> int:
        """Seconds before this IP may try this identifier again (0: not blocked)."""
        return max(self._left(k) for k in self._keys(ip, identifier))

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

    def record_failure(self, ip: str, identifier: str) -> None:
        self._index_ip(self._ident(identifier), ip)
        ipacct, acct, ip_key = self._keys(ip, identifier)
        for scope, key, threshold in (("ip_account", ipacct, self.threshold),
                                      ("account", acct, self.account_threshold),
                                      ("ip", ip_key, self.ip_threshold)):
            count = self.store.incr(key, self.window)
            if count >= threshold:
                delay = min(self.max_delay, 2 ** (count - threshold))
                self.store.set("block:" + key, 1, delay)
                if count == threshold:  # the moment a lockout starts is a security event
                    record("lockout_started", target=identifier.strip().lower(), scope=scope)

    def failures(self, identifier: str) -> int:
        return int(self.store.get(self._keys("", identifier)[1]) or 0)

    def clear_success(self, ip: str, identifier: str) -> None:
        ipacct, _, _ = self._keys(ip, identifier)
        self.store.delete(ipacct, "block:" + ipacct)

    def clear_account(self, identifier: str) -> None:
        """After a password reset or a school unlock: the account starts afresh, from every
        IP (the next generation leaves the old (IP, account) counters to expire unread)."""
        ident = self._ident(identifier)
        _, acct, _ = self._keys("", ident)
        self.store.delete(acct, "block:" + acct, f"fail:ips:{self._generation(ident)}:{ident}")
        self.store.incr(f"fail:gen:{ident}", 30 * 86400)
