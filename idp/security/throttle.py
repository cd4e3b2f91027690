"""Brute-force throttling that cannot be turned against a family.

Three counters live in the store, atomic across processes:
- per (IP, account): after LOCKOUT_THRESHOLD failures, a delay that doubles with each
  further failure (capped);
- per account, from any IP: the same growing delay, but only from a higher threshold, so a
  stranger cannot lock a family out with a handful of tries;
- per IP, across accounts: a high ceiling against spraying.

While a delay runs the password is not even checked and the answer is the ordinary wrong
password message. A successful sign-in clears the (IP, account) counter; a successful reset
clears them all.
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

    @staticmethod
    def _keys(ip: str, identifier: str) -> tuple[str, str, str]:
        ident = identifier.strip().lower()
        return f"fail:ipacct:{ip}:{ident}", f"fail:acct:{ident}", f"fail:ip:{ip}"

    def is_blocked(self, ip: str, identifier: str) -> bool:
        """True while a delay runs for this IP+account, this account or this IP."""
        ipacct, acct, ip_key = self._keys(ip, identifier)
        return any(self.store.get("block:" + k) for k in (ipacct, acct, ip_key))

    def record_failure(self, ip: str, identifier: str) -> None:
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
        """After a password reset or a school unlock: the account starts afresh."""
        _, acct, _ = self._keys("", identifier)
        self.store.delete(acct, "block:" + acct)
