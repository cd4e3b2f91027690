"""The store interface every backend implements."""
from __future__ import annotations

from typing import Any


class StoreUnavailable(RuntimeError):
    """The backend behind the store cannot be reached."""


class Store:
    """Key/value state that expires. Keys are plain strings; values JSON objects."""

    def get(self, key: str) -> Any | None:
        raise NotImplementedError

    def set(self, key: str, value: Any, ttl: int) -> None:
        """Store `value` for `ttl` seconds (replacing any previous value)."""
        raise NotImplementedError

    def set_many(self, entries: dict[str, tuple[Any, int]]) -> None:
        """`set` for each key -> (value, ttl), in one round trip."""
        raise NotImplementedError

    def add(self, key: str, value: Any, ttl: int) -> bool:
        """Store only if absent; True when this call created the key (atomic)."""
        raise NotImplementedError

    def take(self, key: str) -> Any | None:
        """Return and delete in one atomic step: exactly one concurrent caller gets it."""
        raise NotImplementedError

    def take_matching(self, key: str, expect: dict, used_key: str, used_field: str,
                      used_ttl: int) -> Any | None:
        """`take`, only when the value's fields equal `expect` (JSON values, None for
        null); when it does, `used_key` keeps the value's `used_field` for `used_ttl`
        seconds. All in one atomic step; None, and nothing changed, otherwise."""
        raise NotImplementedError

    def delete(self, *keys: str) -> None:
        raise NotImplementedError

    def incr(self, key: str, ttl: int) -> int:
        """Increment a counter atomically; the TTL starts with the first increment."""
        raise NotImplementedError

    def ttl(self, key: str) -> int:
        """Seconds left before `key` expires, 0 when absent."""
        raise NotImplementedError

    def ping(self) -> None:
        """Raise StoreUnavailable when the backend is down."""
        raise NotImplementedError

    def flush(self) -> None:
        """Forget everything (tests and `idp demo load --reset`)."""
        raise NotImplementedError

    # -- fair queues (the sign-in waiting room, security/admission.py) --------------------
    def queue_enter(self, queue: str, member: str, owner: str, lease: int,
                    owner_share: float, owner_min: int,
                    most: int = 0) -> tuple[int | None, int]:
        """Put `member` in `queue` (first come, first served), or keep its place: returns
        (its rank, 0 for the oldest; the queue's length). Members whose lease ran out
        (not seen for `lease` seconds) leave first. A new member is refused, (None,
        length), when its `owner` (a client address) already holds max(owner_min,
        owner_share x length) places, or when the queue holds `most` members already (0:
        no bound); a member in the queue keeps its place either way. Each call renews the
        member's lease. Atomic."""
        raise NotImplementedError

    def queue_leave(self, queue: str, member: str) -> None:
        """Take `member` out of `queue` (admitted, or gone)."""
        raise NotImplementedError

    def queue_length(self, queue: str) -> int:
        """Members in `queue` whose lease runs (the expired ones leave first)."""
        raise NotImplementedError
