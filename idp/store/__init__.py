"""Short-lived state with a TTL and atomic counters.

Two implementations share one small interface (`Store`): `RedisStore` for production and
`EmbeddedStore`, a SQLite file that every process on the machine shares, which is the
default so that `make run` (several processes) stays correct without Redis.

Values are JSON-serialisable objects. Every method raises `StoreUnavailable` when the
backend cannot be reached, so callers that throttle can answer 503 instead of letting
requests through unthrottled.
"""
from __future__ import annotations

from .base import Store, StoreUnavailable


def open_store(settings: dict) -> Store:
    """Build the store named by the settings (Redis URL wins over the embedded file)."""
    if settings.get("REDIS_URL"):
        from .redis import RedisStore

        return RedisStore(settings["REDIS_URL"], prefix=settings.get("STORE_PREFIX", "idp:"))
    from .embedded import EmbeddedStore

    return EmbeddedStore(settings["STORE_PATH"])


__all__ = ["Store", "StoreUnavailable", "open_store"]
