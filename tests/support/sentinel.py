"""A private Redis master, its replica and a sentinel (Debian's redis-sentinel), for
tests that fail the master over. The machine's Redis (6379) is shared: never touched.

`SentinelSet(directory)`: redis-server master and replica (no persistence) and one
sentinel (quorum 1, the master "down" after 1 s), each on a free port, their files in
`directory`. `.sentinels` ("host:port,...": an address nothing listens on first, so
clients move on to the next), `.master()`, `.failover()` (SENTINEL FAILOVER: the master
still runs and is made a replica later), `.kill_master()` (SIGKILL: the sentinel promotes
the replica once it sees the master down), `.kill_all()` (no master left to promote), `.freeze_replica()` (SIGSTOP).
Both wait until the sentinel names the new master. Fixture `sentinel_set`: one per test.
"""
from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis

from .served import free_port
from .servers import _wait_for_port

MASTER_NAME = "mymaster"
DOWN_AFTER_MS = 1000


def sentinel_binary() -> str | None:
    """Debian's redis-sentinel (`make interop-deps` installs it), or None."""
    return shutil.which("redis-sentinel")


class SentinelSet:
    def __init__(self, directory: Path):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.servers: dict[int, subprocess.Popen] = {}
        self.sentinel_port = free_port()
        self.sentinel: subprocess.Popen | None = None
        self.sentinels = f"127.0.0.1:{free_port()},127.0.0.1:{self.sentinel_port}"

    def _server(self, port: int, *extra: str) -> None:
        self.servers[port] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--repl-diskless-sync-delay", "0",
             "--dir", str(self.dir), "--logfile", str(self.dir / f"redis-{port}.log"), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(port, self.servers[port], "redis-server")

    def start(self) -> "SentinelSet":
        master, replica = free_port(), free_port()
        self._server(master)
        self._server(replica, "--replicaof", "127.0.0.1", str(master))
        conf = self.dir / "sentinel.conf"
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.dir}\n"
            f"logfile {self.dir / 'sentinel.log'}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 1\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER_NAME} 10000\n")
        self.sentinel = subprocess.Popen([sentinel_binary(), str(conf)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.sentinel_port, self.sentinel, "redis-sentinel")
        self._until(lambda: self._replica_known(), "the sentinel to see the replica in sync")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_port, socket_timeout=2)

    def master(self) -> tuple[str, int]:
        host, port = self.client().sentinel_get_master_addr_by_name(MASTER_NAME)
        return host.decode() if isinstance(host, bytes) else host, int(port)

    def master_redis(self) -> redis.Redis:
        host, port = self.master()
        return redis.Redis(host=host, port=port, socket_timeout=2)

    def _replica_known(self) -> bool:
        replicas = self.client().sentinel_slaves(MASTER_NAME)
        if not any(not r["is_sdown"] and r.get("master-link-status") == "ok"
                   for r in replicas):
            return False
        master = self.master_redis()
        master.set("sentinel-set:ready", 1)
        return master.wait(1, 1000) >= 1  # the replica is online and acknowledges writes

    def _until(self, check, what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"waited {timeout}s for {what}; sentinel log:\n"
                           + (self.dir / "sentinel.log").read_text()[-3000:])

    def failover(self) -> tuple[str, int]:
        """SENTINEL FAILOVER; the new master once the sentinel names it."""
        before = self.master()
        self.client().execute_command("SENTINEL", "FAILOVER", MASTER_NAME)
        self._until(lambda: self.master() != before, "the failover")
        return self.master()

    def kill_master(self) -> tuple[str, int]:
        """SIGKILL the master; the promoted replica once the sentinel names it."""
        before = self.master()
        process = self.servers[before[1]]
        process.kill()
        process.wait(timeout=10)
        self._until(lambda: self.master() != before, "the promotion after the kill")
        return self.master()

    def freeze_replica(self) -> subprocess.Popen:
        """SIGSTOP the replica (it acknowledges nothing, the sentinel marks it down after
        DOWN_AFTER_MS); the caller sends SIGCONT (`process.send_signal`)."""
        master = self.master()[1]
        replica = next(p for port, p in self.servers.items() if port != master)
        replica.send_signal(signal.SIGSTOP)
        return replica

    def kill_all(self) -> None:
        """Every Redis server killed: the sentinel is left with no master to name."""
        for process in self.servers.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    def stop(self) -> None:
        for process in [self.sentinel, *self.servers.values()]:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


@pytest.fixture
def sentinel_set(tmp_path):
    """A master, a replica and a sentinel of this test's own (see SentinelSet)."""
    if sentinel_binary() is None:
        pytest.skip("redis-sentinel is not installed (`make interop-deps` installs it)")
    servers = SentinelSet(tmp_path / "sentinel")
    try:
        yield servers.start()
    finally:
        servers.stop()
