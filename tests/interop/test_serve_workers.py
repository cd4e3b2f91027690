"""`idp serve`: keep-alive connections are spread over the worker processes
(idp/admin/balanced_worker.py), where gunicorn's gthread worker lets one worker take them
all while the other idles."""
from __future__ import annotations

import http.client
import os
import sys
import threading
from pathlib import Path

import pytest

from tests.support.served import _run, free_port, settings_env

WORKERS, THREADS = 2, 2


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _established_on(port: int) -> dict[int, int]:
    """Socket inode -> 1 for every established TCP connection whose local port is `port`."""
    inodes = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                inodes[int(fields[9])] = 1
    return inodes


def _connections_per_worker(workers: list[int], port: int) -> dict[int, int]:
    established = _established_on(port)
    counts = {}
    for pid in workers:
        n = 0
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and int(target[8:-1]) in established:
                n += 1
        counts[pid] = n
    return counts


@pytest.mark.parametrize("connections", [WORKERS * THREADS, 3 * WORKERS * THREADS])
def test_keep_alive_connections_are_spread_over_the_workers(settings, tmp_path,
                                                            connections):
    port = free_port()
    env = settings_env(settings, ISSUER=f"http://127.0.0.1:{port}")
    idp = str(Path(sys.executable).with_name("idp"))
    cmd = [idp, "serve", "--workers", str(WORKERS), "--threads", str(THREADS),
           "--bind", f"127.0.0.1:{port}"]
    with _run(cmd, env, port, "/.well-known/openid-configuration",
              tmp_path / "serve.log") as served:
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                 for _ in range(connections)]
        statuses = []

        def use(conn):
            # 15 requests, then on until the connection stays open (http.client opens a
            # new one after a "Connection: close").
            for n in range(60):
                conn.request("GET", "/.well-known/openid-configuration")
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
                if n >= 15 and not response.will_close:
                    break

        threads = [threading.Thread(target=use, args=(c,)) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(statuses) == {200}, served.log_tail()
        workers = _children(served.process.pid)
        counts = _connections_per_worker(workers, port)
        for c in conns:
            c.close()
    assert len(workers) == WORKERS
    # As many on each worker (gthread: all of them on one worker).
    assert sorted(counts.values()) == [connections // WORKERS] * WORKERS, counts
