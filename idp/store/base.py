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
