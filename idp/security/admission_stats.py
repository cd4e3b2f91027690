"""The waiting room's counts for the console's home (admin/console/home.py): sign-ins let
in and waiting pages answered by the whole cluster, per hour, in the store. The
per-process Prometheus metrics are in admission_metrics.py.
"""
from __future__ import annotations

import time

from ..store import Store

STATS_TTL = 3 * 24 * 3600     # hourly counts kept this long
KINDS = ("admitted", "turned_away")


def count(store: Store, what: str) -> None:
    """One more `what` (one of KINDS) in the current hour."""
    store.incr(f"signin-stats:{what}:{int(time.time() // 3600)}", STATS_TTL)


def hourly_counts(store: Store, hours: int = 2) -> list[dict]:
    """[{"hour": unix time of its start, "admitted": n, "turned_away": n}], newest
    first."""
    now = int(time.time() // 3600)
    return [{"hour": h * 3600,
             **{what: int(store.get(f"signin-stats:{what}:{h}") or 0) for what in KINDS}}
            for h in range(now, now - hours, -1)]
