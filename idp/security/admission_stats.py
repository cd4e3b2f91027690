"""The waiting room's counts in the store, for the whole cluster: sign-ins let in and
waiting pages answered per hour (the console's home, admin/console/home.py), and sign-ins
let in per 5-second bucket (the admission rate that sizes Retry-After and a bounded room).
The per-process Prometheus metrics are in admission_metrics.py.
"""
from __future__ import annotations

import time

from ..store import Store

STATS_TTL = 3 * 24 * 3600     # hourly counts kept this long
KINDS = ("admitted", "turned_away")
RATE_BUCKET_SECONDS = 5       # sign-ins let in are also counted per bucket this long


def count(store: Store, what: str) -> None:
    """One more `what` (one of KINDS) in the current hour (and, let in, in its bucket)."""
    now = time.time()
    store.incr(f"signin-stats:{what}:{int(now // 3600)}", STATS_TTL)
    if what == "admitted":
        store.incr(f"signin-rate:{int(now // RATE_BUCKET_SECONDS)}", 3 * RATE_BUCKET_SECONDS)


def admitted_per_second(store: Store) -> float | None:
    """Sign-ins the cluster let in per second over the last full bucket; None when it let
    in none then (nothing measured)."""
    previous = int(time.time() // RATE_BUCKET_SECONDS) - 1
    count = int(store.get(f"signin-rate:{previous}") or 0)
    return count / RATE_BUCKET_SECONDS if count else None


def hourly_counts(store: Store, hours: int = 2) -> list[dict]:
    """[{"hour": unix time of its start, "admitted": n, "turned_away": n}], newest
    first."""
    now = int(time.time() // 3600)
    return [{"hour": h * 3600,
             **{what: int(store.get(f"signin-stats:{what}:{h}") or 0) for what in KINDS}}
            for h in range(now, now - hours, -1)]
