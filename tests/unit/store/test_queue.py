"""The fair queue of both store backends (the sign-in waiting room): arrival order kept
across renewals, leases, a share per owner, atomic under threads."""
from __future__ import annotations

import os
import secrets
import threading
import time

import pytest

from idp.store.embedded import EmbeddedStore


@pytest.fixture(params=["embedded", "redis"])
def store(request, tmp_path):
    if request.param == "redis":
        url = os.environ.get("IDP_TEST_REDIS_URL")
        if not url:
            pytest.skip("Redis is exercised in the PostgreSQL + Redis run (IDP_TEST_REDIS_URL)")
        from idp.store.redis import RedisStore

        s = RedisStore(url, prefix=f"idp-queue-{secrets.token_hex(4)}:")
        yield s
        s.flush()
        return
    yield EmbeddedStore(str(tmp_path / "store.sqlite3"))


def enter(store, member, owner="a", lease=30, share=1.0, minimum=100):
    return store.queue_enter("q", member, owner, lease, share, minimum)


def test_first_come_first_served_and_renewals_keep_the_place(store):
    assert enter(store, "m1") == (0, 1)
    assert enter(store, "m2") == (1, 2)
    assert enter(store, "m3") == (2, 3)
    for _ in range(3):  # m3 retries fast: still third
        assert enter(store, "m3") == (2, 3)
    store.queue_leave("q", "m1")
    assert enter(store, "m2") == (0, 2)
    assert enter(store, "m3") == (1, 2)
    assert store.queue_length("q") == 2
    store.queue_leave("q", "unknown")  # nothing happens
    assert store.queue_length("other") == 0


def test_a_member_whose_lease_runs_out_leaves(store):
    enter(store, "gone", lease=1)
    enter(store, "stays", lease=30)
    assert store.queue_length("q") == 2
    time.sleep(2.1)
    assert store.queue_length("q") == 1
    assert enter(store, "stays") == (0, 1)
    assert enter(store, "gone") == (1, 2)  # back, at the end


def test_one_owner_holds_at_most_its_share(store):
    for i in range(10):
        assert enter(store, f"other{i}", owner=f"o{i}", share=0.2, minimum=2)[0] == i
    assert enter(store, "x1", owner="x", share=0.2, minimum=2)[0] is not None
    assert enter(store, "x2", owner="x", share=0.2, minimum=2)[0] is not None  # 2 of 12
    rank, length = enter(store, "x3", owner="x", share=0.2, minimum=2)
    assert rank is None and length == 12  # refused: 2 >= max(2, int(0.2 * 13))
    assert enter(store, "x1", owner="x", share=0.2, minimum=2)[0] == 10  # renewals pass
    store.queue_leave("q", "x1")
    assert enter(store, "x3", owner="x", share=0.2, minimum=2)[0] is not None


def test_concurrent_entries_get_distinct_ranks(store):
    ranks, errors = [], []

    def go(i):
        try:
            ranks.append(enter(store, f"t{i}", owner=f"o{i}")[0])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(ranks) == list(range(16))


def test_flush_empties_the_queues(store):
    enter(store, "m1")
    store.flush()
    assert store.queue_length("q") == 0


def test_a_bounded_queue_refuses_newcomers_and_keeps_its_members(store):
    """`most` (the waiting room's SIGNIN_QUEUE_MAX_SECONDS): a full queue turns a new
    member away; those in it keep their places and renew their leases."""
    for i in range(3):
        assert store.queue_enter("q", f"m{i}", f"o{i}", 30, 1.0, 100, most=3) == (i, i + 1)
    assert store.queue_enter("q", "late", "o9", 30, 1.0, 100, most=3) == (None, 3)
    assert store.queue_enter("q", "m2", "o2", 30, 1.0, 100, most=3) == (2, 3)  # kept
    assert store.queue_length("q") == 3
    store.queue_leave("q", "m0")
    assert store.queue_enter("q", "late", "o9", 30, 1.0, 100, most=3) == (2, 3)  # room now
    assert store.queue_enter("q", "unbounded", "o8", 30, 1.0, 100) == (3, 4)
