"""Short-lived state with a TTL and atomic counters.

Implementations share one small interface (`Store`): `RedisStore` for production (one
server), `SentinelStore` for Redis behind Sentinel (a failover costs no write), and
`EmbeddedStore`, a SQLite file that every process on the machine shares, which is the
default so that `make run` (several processes) stays correct without Redis.

Values are JSON-serialisable objects. Every method raises `StoreUnavailable` when the
backend cannot be reached, so callers that throttle can answer 503 instead of letting
requests through unthrottled.
"""
from __future__ import annotations

from .base import Store, StoreUnavailable


def open_store(settings: dict) -> Store:
    """Build the store named by the settings: Redis through its sentinels, or at one URL,
    else the embedded file."""
    if settings.get("REDIS_SENTINELS"):
        from .sentinel import SentinelStore, parse_sentinels

        return SentinelStore(parse_sentinels(settings["REDIS_SENTINELS"]),
                             settings.get("REDIS_SENTINEL_MASTER") or "mymaster",
                             prefix=settings.get("STORE_PREFIX", "idp:"),
                             failover_seconds=settings.get("REDIS_FAILOVER_SECONDS", 10))
    if settings.get("REDIS_URL"):
        from .redis import RedisStore

        return RedisStore(settings["REDIS_URL"], prefix=settings.get("STORE_PREFIX", "idp:"))
    from .embedded import EmbeddedStore

    return EmbeddedStore(settings["STORE_PATH"])


__all__ = ["Store", "StoreUnavailable", "open_store"]
