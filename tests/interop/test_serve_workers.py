"""`idp serve`: stock gunicorn workers (idp/admin/serve.py). gthread for `--threads` above
1, sync for 1; a worker holds at most one connection per thread and closes each after its
response, so connections (as a reverse proxy in front opens them, one per request) are
spread over the worker processes."""
from __future__ import annotations

import http.client
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from idp.admin.serve import KEEPALIVE, gunicorn_options
from tests.support.served import _run, free_port, settings_env

WORKERS, THREADS = 2, 2
PROBE = "/.well-known/openid-configuration"


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


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.parametrize("threads, worker_class", [(1, "sync"), (2, "gthread"),
                                                   (8, "gthread")])
def test_stock_workers_and_standard_settings(threads, worker_class):
    options = gunicorn_options(workers=3, bind="127.0.0.1:1", threads=threads)
    assert options["worker_class"] == worker_class and options["threads"] == threads
    assert options["workers"] == 3 and options["keepalive"] == KEEPALIVE == 0
    assert options["worker_connections"] == threads
    assert options["timeout"] == 30
    # The access log on, as JSON lines (idp/ops/logs.py), on stderr with the error log.
    assert options["accesslog"] == "-" and options["errorlog"] == "-"
    assert options["logger_class"] == "idp.ops.logs.GunicornLogger"
    assert gunicorn_options(workers=3, bind="127.0.0.1:1", access_log=False)["accesslog"] is None
    assert options["forwarded_allow_ips"] == ""  # forwarded headers: IDP_TRUSTED_PROXIES


def test_connections_are_served_and_spread_over_every_worker(settings, tmp_path):
    port = free_port()
    env = settings_env(settings, ISSUER=f"http://127.0.0.1:{port}")
    idp = str(Path(sys.executable).with_name("idp"))
    cmd = [idp, "serve", "--workers", str(WORKERS), "--threads", str(THREADS),
           "--bind", f"127.0.0.1:{port}"]
    with _run(cmd, env, port, PROBE, tmp_path / "serve.log") as served:
        # The probe may be answered by the first worker before gunicorn forked the next.
        deadline = time.monotonic() + 15
        while len(workers := _children(served.process.pid)) < WORKERS \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) == WORKERS
        # A client asking for keep-alive is answered, and the connection closed (an idle
        # connection would hold one of the worker's slots); http.client reconnects.
        kept = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(5):
            kept.request("GET", PROBE)
            response = kept.getresponse()
            response.read()
            assert response.status == 200 and response.will_close
        kept.close()
        # Short connections from 4 clients at once: each worker takes its share.
        before = {pid: _cpu_ticks(pid) for pid in workers}
        statuses = []

        def short_requests():
            for _ in range(60):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", PROBE, headers={"Connection": "close"})
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
                conn.close()

        threads = [threading.Thread(target=short_requests) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        used = {pid: _cpu_ticks(pid) - before[pid] for pid in workers}
        assert set(statuses) == {200}, served.log_tail()
    total = sum(used.values())
    assert total > 0 and min(used.values()) >= total * 0.15, used
