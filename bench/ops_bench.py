"""Operator endpoints under a probe's load (issue 16): what /healthz, /readyz and /metrics
cost on a running IdP. A script, not a test: it prints figures.

    .venv/bin/idp serve --workers 2 --bind 127.0.0.1:5000 &     # or make run / make cluster
    .venv/bin/python bench/ops_bench.py --url http://127.0.0.1:5000 [--requests 300]

Sequential requests, one connection each (as a load balancer's or Prometheus' probe):
median, 95th percentile and worst latency per endpoint, and the size of a scrape.
"""
from __future__ import annotations

import argparse
import http.client
import statistics
import time
from urllib.parse import urlsplit


def measure(host: str, port: int, path: str, count: int) -> tuple[list[float], int, set]:
    times, size, statuses = [], 0, set()
    for _ in range(count):
        started = time.perf_counter()
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        times.append((time.perf_counter() - started) * 1000)
        size, statuses = len(body), statuses | {response.status}
    return times, size, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    target = urlsplit(args.url)
    host, port = target.hostname, target.port or 80
    print(f"{args.requests} sequential requests per endpoint to {args.url}")
    print(f"{'endpoint':<12}{'status':>8}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'bytes':>8}")
    for path in ("/healthz", "/readyz", "/metrics"):
        times, size, statuses = measure(host, port, path, args.requests)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{path:<12}{','.join(map(str, sorted(statuses))):>8}"
              f"{statistics.median(times):>11.2f}{p95:>9.2f}{times[-1]:>9.2f}{size:>8}")


if __name__ == "__main__":
    main()
