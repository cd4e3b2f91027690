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

# Fair queues: KEYS order (ZSET member -> arrival number), lease (ZSET member -> expiry,
# server time), owner (HASH member -> client address), held (HASH address -> places),
# seq (the arrival counter). ARGV member ('' reads the length only), owner, lease seconds,
# owner share, owner minimum, leave (1: take the member out), most members (0: no bound).
# Expired members leave first.
_QUEUE_SCRIPT = """
local clock = redis.call('TIME')  -- seconds and microseconds: a lease of 1 s lasts 1 s
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local function drop(m)
  local o = redis.call('HGET', KEYS[3], m)
  if o then
    if redis.call('HINCRBY', KEYS[4], o, -1) <= 0 then redis.call('HDEL', KEYS[4], o) end
  end
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZREM', KEYS[2], m)
  redis.call('HDEL', KEYS[3], m)
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do drop(m) end
if ARGV[6] == '1' then
  if redis.call('ZSCORE', KEYS[1], ARGV[1]) then drop(ARGV[1]) end
  return {-1, redis.call('ZCARD', KEYS[1])}
end
local length = redis.call('ZCARD', KEYS[1])
if ARGV[1] == '' then return {-1, length} end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local held = tonumber(redis.call('HGET', KEYS[4], ARGV[2]) or '0')
  local cap = math.max(tonumber(ARGV[5]), math.floor(tonumber(ARGV[4]) * (length + 1)))
  if held >= cap then return {-2, length} end
  local most = tonumber(ARGV[7])
  if most > 0 and length >= most then return {-3, length} end
  redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[5]), ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
  redis.call('HINCRBY', KEYS[4], ARGV[2], 1)
  length = length + 1
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
for i = 1, 5 do redis.call('EXPIRE', KEYS[i], 86400) end
return {redis.call('ZRANK', KEYS[1], ARGV[1]), length}
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
        self._queue = self._redis.register_script(_QUEUE_SCRIPT)

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

    def _queue_call(self, queue: str, member: str, owner: str = "", lease: int = 1,
                    share: float = 1.0, minimum: int = 0, leave: bool = False,
                    most: int = 0):
        keys = [self._k(f"queue:{queue}:{part}")
                for part in ("order", "lease", "owner", "held", "seq")]
        rank, length = self._run(lambda r: self._script(
            r, self._queue, keys, [member, owner, max(1, int(lease)), float(share),
                                   int(minimum), "1" if leave else "0", int(most)]))
        return int(rank), int(length)

    def queue_enter(self, queue: str, member: str, owner: str, lease: int,
                    owner_share: float, owner_min: int,
                    most: int = 0) -> tuple[int | None, int]:
        rank, length = self._queue_call(queue, member, owner, lease, owner_share, owner_min,
                                        most=most)
        return (None if rank < 0 else rank), length

    def queue_leave(self, queue: str, member: str) -> None:
        self._queue_call(queue, member, leave=True)

    def queue_length(self, queue: str) -> int:
        return self._queue_call(queue, "")[1]

    def ping(self) -> None:
        self._run(lambda r: r.ping())

    def flush(self) -> None:
        keys = self._call(lambda: list(self._redis.scan_iter(match=self._prefix + "*")))
        if keys:
            self._call(self._redis.delete, *keys)
