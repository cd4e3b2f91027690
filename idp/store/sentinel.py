"""Redis behind Sentinel (IDP_REDIS_SENTINELS): a failover costs no write and no 500.

redis-py's Sentinel client finds the master through the sentinels when it opens a
connection, and nothing more. Measured with Debian's redis-sentinel (SENTINEL FAILOVER,
one replica): the clients kept writing to the former master for 11 s, and every one of
those writes was lost. The former master goes on accepting writes until the sentinels
reconfigure it as a replica (some 8 s after the promotion); it then copies the new master
and drops what it had. Sessions made then would vanish; codes taken there would come back.

So each store operation runs in one pipeline followed by `WAIT 1 <ms>` on the same
connection: the master answers once a replica has the write, in the same round trip (a
fraction of a millisecond more). The sentinels promote the replica with the most data, so
a write one replica has survives a failover. No acknowledgement in WAIT_MS (a replica
that lags, or died, or a failover): the store asks the sentinels. When they name another
master, or the sentinel leading a failover says it is under way, the operation runs again
on the new master, as it does after a connection error, a read-only former master or no
master named at all (every FAILOVER_SECONDS the pool asks the sentinels where the master
is on each new connection). Otherwise it WAITs again on the same connection until a
replica has the write, or the sentinels see no replica left (nothing could be promoted),
or FAILOVER_SECONDS pass: then StoreUnavailable (503). A write is never acknowledged to
the caller while it sits on the master alone with a replica that could replace it; that
was the one way writes were lost (measured before: 261 of 1,579 lost at a failover while
a loaded replica missed the 100 ms confirmation). Each operation can run twice: its
effects on a former master are lost with it, and an acknowledged one is on a replica.
"""
from __future__ import annotations

import time

import redis
from redis.backoff import NoBackoff
from redis.client import Pipeline
from redis.retry import Retry
from redis.sentinel import Sentinel

from .base import StoreUnavailable
from .redis import RedisStore

WAIT_MS = 100            # how long the master waits for its replicas' acknowledgement
REPLICAS_CHECK_SECONDS = 1.0   # how often the count of replicas is read from the sentinels
RETRY_PAUSE_SECONDS = 0.05
# Errors after which the operation runs again (on the master the sentinels name then).
_RETRY_ON = (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError)
_RETRY_REPLIES = ("NOREPLICAS", "MASTERDOWN", "LOADING", "READONLY",
                  "WAIT cannot be used with replica")  # a connection to a former master


class StoreMisconfigured(RuntimeError):
    """The sentinels answer but monitor no master of that name (one line)."""


class _Failover(Exception):
    """The server written to is no longer, or will soon no longer be, the master."""


def parse_sentinels(value) -> list[tuple[str, int]]:
    """IDP_REDIS_SENTINELS: "host:port,host:port" (environment) or a TOML list of them.
    ValueError naming the entry it cannot read."""
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    if not any(str(i).strip() for i in items):
        raise ValueError("IDP_REDIS_SENTINELS names no sentinel")
    found = []
    for item in (str(i).strip() for i in items):
        host, _, port = item.rpartition(":")
        host = host.strip("[]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"IDP_REDIS_SENTINELS: {item!r} is not host:port "
                             f"(write host:port,host:port)")
        found.append((host, int(port)))
    return found


class SentinelStore(RedisStore):
    def __init__(self, sentinels: list[tuple[str, int]], master: str, prefix: str = "idp:",
                 failover_seconds: float = 10):
        self._sentinel = Sentinel(sentinels, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._master = master
        self._failover_seconds = float(failover_seconds)
        self._replicas = (0, 0.0)   # (count expected to acknowledge, when last read)
        self._check_master_is_monitored(sentinels)
        # Retries are ours (below): redis-py's own would retry on the same dead address.
        client = self._sentinel.master_for(master, socket_timeout=2, socket_connect_timeout=2,
                                           retry=Retry(NoBackoff(), 0))
        super().__init__(prefix=prefix, client=client)

    def _check_master_is_monitored(self, sentinels) -> None:
        """A configuration mistake (a master name no sentinel monitors) stops start-up in
        one line; sentinels that do not answer are an outage (503 until they do)."""
        answered = False
        for sentinel in self._sentinel.sentinels:
            try:
                if self._master in sentinel.sentinel_masters():
                    return
                answered = True
            except redis.RedisError:
                continue
        if answered:
            where = ",".join(f"{h}:{p}" for h, p in sentinels)
            raise StoreMisconfigured(
                f"the sentinels at {where} monitor no Redis master named {self._master!r} "
                f"(IDP_REDIS_SENTINEL_MASTER)")

    # -- running an operation ------------------------------------------------------------
    def _call(self, fn, *args, **kwargs):
        return self._again_until_a_master(lambda: fn(*args, **kwargs))

    def _run(self, op, *, many: bool = False):
        return self._again_until_a_master(lambda: self._once(op, many))

    def _again_until_a_master(self, attempt):
        deadline = time.monotonic() + self._failover_seconds
        while True:
            try:
                return attempt()
            except _Failover as exc:
                why = str(exc)
            except _RETRY_ON as exc:
                why = str(exc) or type(exc).__name__
            except redis.ResponseError as exc:
                if not str(exc).startswith(_RETRY_REPLIES):
                    raise StoreUnavailable(str(exc)) from exc
                why = str(exc)
            except redis.RedisError as exc:
                raise StoreUnavailable(str(exc)) from exc
            if time.monotonic() >= deadline:
                raise StoreUnavailable(f"no Redis master for {self._master!r} after "
                                       f"{self._failover_seconds:g} s: {why}")
            time.sleep(RETRY_PAUSE_SECONDS)

    def _once(self, op, many: bool):
        """The operation, then in the same round trip WAIT (a replica has it), or, with
        no replica to wait for, ROLE: a pooled connection may still lead to a former
        master the sentinels have made a replica, which answers reads from its old data
        until it has copied the new master (seen: a key just written read as None)."""
        replicas = self._expected_replicas()
        pipe = _HeldPipeline(self._redis.connection_pool, self._redis.response_callbacks,
                             False, None)
        try:
            op(pipe)
            if replicas:
                pipe.wait(1, WAIT_MS)
            else:
                pipe.execute_command("ROLE")
            results = pipe.execute()
            last = results.pop()
            if not replicas:
                if _role(last) != "master":
                    pipe.connection.disconnect()
                    self._redis.connection_pool.disconnect(inuse_connections=False)
                    raise _Failover(f"the server answering is a {_role(last)}, not the master")
            elif not last:
                self._until_a_replica_has_it(pipe.connection)
        finally:
            pipe.release()
        return results if many else results[0]

    def _until_a_replica_has_it(self, connection) -> None:
        """No replica acknowledged the write in WAIT_MS: wait on, on the same connection,
        as long as the master is still the master, some replica is alive and
        FAILOVER_SECONDS have not passed (then StoreUnavailable: a 503, never a write
        that a failover could lose). A write is never left on the master alone."""
        deadline = time.monotonic() + self._failover_seconds
        while True:
            self._check_no_failover()
            if not self._expected_replicas(fresh=True):
                return  # the sentinels see no replica left: nothing can be promoted
            if time.monotonic() >= deadline:
                raise StoreUnavailable(f"no replica of {self._master!r} confirmed a write "
                                       f"in {self._failover_seconds:g} s")
            connection.send_command("WAIT", 1, WAIT_MS)
            if connection.read_response():
                return

    def _script(self, r, script, keys: list, args: list):
        if isinstance(r, Pipeline):
            # EVAL with the text: a new master after a failover has no cached script, and
            # a pipeline would ask SCRIPT EXISTS first in a round trip of its own.
            return r.eval(script.script, len(keys), *keys, *args)
        return super()._script(r, script, keys, args)

    # -- what the sentinels and the replicas say -----------------------------------------
    def _expected_replicas(self, fresh: bool = False) -> int:
        """How many live replicas the sentinels know (read at most once a second)."""
        count, when = self._replicas
        now = time.monotonic()
        if fresh or now - when >= REPLICAS_CHECK_SECONDS:
            count = len(self._sentinel.discover_slaves(self._master))  # alive ones
            self._replicas = (count, now)
        return count

    def _check_no_failover(self) -> None:
        """No replica acknowledged: raise _Failover when the sentinels name another
        master, or when one of them is failing the master over (only the sentinel leading
        a failover says so: every sentinel is asked)."""
        pool = self._redis.connection_pool
        named, under_way = None, False
        for sentinel in self._sentinel.sentinels:
            try:
                state = sentinel.sentinel_masters().get(self._master)
            except redis.RedisError:
                continue
            if not state:
                continue
            under_way = under_way or "failover_in_progress" in state["flags"]
            if named is None and self._sentinel.check_master_state(state, self._master):
                named = (state["ip"], state["port"])
        if named is None:
            raise _Failover(f"no sentinel names a master for {self._master!r}")
        if under_way or (pool.master_address is not None and named != pool.master_address):
            pool.disconnect(inuse_connections=False)  # new connections ask the sentinels
            raise _Failover("a failover is under way" if under_way
                            else f"the master moved to {named[0]}:{named[1]}")


def _role(reply) -> str:
    role = reply[0] if isinstance(reply, (list, tuple)) and reply else reply
    return role.decode() if isinstance(role, bytes) else str(role)


class _HeldPipeline(Pipeline):
    """A pipeline that keeps its connection after execute(), so that a WAIT can follow
    on it (WAIT counts the replicas that have this connection's writes); release() gives
    the connection back to the pool."""

    def reset(self) -> None:
        held, self.connection = self.connection, None
        super().reset()
        self.connection = held

    def release(self) -> None:
        if self.connection is not None:
            self.connection_pool.release(self.connection)
            self.connection = None
