"""Redis-backed store (production: shared by every process behind the load balancer)."""
from __future__ import annotations

import json
from typing import Any

import redis

from .base import Store, StoreUnavailable

# INCR then set the TTL only on the first increment, in one round trip.
_INCR_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""

# take_matching: GET, compare the fields, DEL and mark used, in one round trip. Both sides
# are decoded by cjson, so a JSON null compares equal to a null expectation.
_TAKE_MATCHING_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local value = cjson.decode(raw)
for field, expected in pairs(cjson.decode(ARGV[1])) do
  if value[field] ~= expected then return nil end
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], cjson.encode(value[ARGV[2]]), 'EX', ARGV[3])
return raw
"""


class RedisStore(Store):
    """One Redis server (IDP_REDIS_URL). Each method issues its command(s) through
    `_run`, which the Sentinel store (sentinel.py) overrides to check, in the same round
    trip, that the write reached the replicas of the server that is still the master."""

    def __init__(self, url: str | None = None, prefix: str = "idp:", *,
                 client: redis.Redis | None = None):
        self._redis = client or redis.Redis.from_url(url, socket_timeout=2,
                                                     socket_connect_timeout=2)
        self._prefix = prefix
        self._incr = self._redis.register_script(_INCR_SCRIPT)
        self._take_matching = self._redis.register_script(_TAKE_MATCHING_SCRIPT)

    def _k(self, key: str) -> str:
        return self._prefix + key

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def _run(self, op, *, many: bool = False):
        """`op(r)` issues the command(s) of one store operation on `r` (the client, or a
        pipeline with `many`: then the list of their results)."""
        if not many:
            return self._call(op, self._redis)
        pipe = self._redis.pipeline(transaction=False)
        op(pipe)
        return self._call(pipe.execute)

    def _script(self, r, script, keys: list, args: list):
        return script(keys=keys, args=args, client=r)

    def get(self, key: str) -> Any | None:
        raw = self._run(lambda r: r.get(self._k(key)))
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl: int) -> None:
        self._run(lambda r: r.set(self._k(key), json.dumps(value), ex=max(1, int(ttl))))

    def set_many(self, entries: dict[str, tuple[Any, int]]) -> None:
        def op(pipe):
            for key, (value, ttl) in entries.items():
                pipe.set(self._k(key), json.dumps(value), ex=max(1, int(ttl)))

        self._run(op, many=True)

    def add(self, key: str, value: Any, ttl: int) -> bool:
        return bool(self._run(lambda r: r.set(self._k(key), json.dumps(value),
                                              ex=max(1, int(ttl)), nx=True)))

    def take(self, key: str) -> Any | None:
        raw = self._run(lambda r: r.getdel(self._k(key)))
        return None if raw is None else json.loads(raw)

    def take_matching(self, key: str, expect: dict, used_key: str, used_field: str,
                      used_ttl: int) -> Any | None:
        raw = self._run(lambda r: self._script(
            r, self._take_matching, [self._k(key), self._k(used_key)],
            [json.dumps(expect), used_field, max(1, int(used_ttl))]))
        return None if raw is None else json.loads(raw)

    def delete(self, *keys: str) -> None:
        if keys:
            self._run(lambda r: r.delete(*(self._k(k) for k in keys)))

    def incr(self, key: str, ttl: int) -> int:
        return int(self._run(lambda r: self._script(r, self._incr, [self._k(key)],
                                                    [max(1, int(ttl))])))

    def ttl(self, key: str) -> int:
        return max(0, int(self._run(lambda r: r.ttl(self._k(key)))))

    def ping(self) -> None:
        self._run(lambda r: r.ping())

    def flush(self) -> None:
        keys = self._call(lambda: list(self._redis.scan_iter(match=self._prefix + "*")))
        if keys:
            self._call(self._redis.delete, *keys)
