"""Both store backends keep the same promises: TTL, atomic counters, one-time take."""
from __future__ import annotations

import os
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

        s = RedisStore(url, prefix="idp-unit:")
        s.flush()
        return s
    return EmbeddedStore(str(tmp_path / "store.sqlite3"))


def test_set_get_expire(store):
    store.set("k", {"a": 1}, 1)
    assert store.get("k") == {"a": 1}
    time.sleep(1.2)
    assert store.get("k") is None


def test_add_only_once(store):
    assert store.add("k", 1, 10) is True
    assert store.add("k", 2, 10) is False
    assert store.get("k") == 1


def test_take_is_atomic_across_threads(store, tmp_path):
    store.set("code", "x", 10)
    winners = []

    def take():
        if store.take("code") is not None:
            winners.append(1)

    threads = [threading.Thread(target=take) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert winners == [1]


def test_take_matching_takes_only_a_matching_value_and_marks_it_used(store):
    code = {"client_id": "rp", "redirect_uri": None, "challenge": "c1", "grant_id": "g1"}
    store.set("code", code, 10)
    for expect in ({"client_id": "other"}, {"redirect_uri": "https://rp.example/cb"},
                   {"client_id": "rp", "challenge": None}, {"absent": None}):
        assert store.take_matching("code", expect, "used", "grant_id", 60) is None
        assert store.get("code") == code and store.get("used") is None  # nothing changed
    expect = {"client_id": "rp", "redirect_uri": None, "challenge": "c1"}
    assert store.take_matching("code", expect, "used", "grant_id", 60) == code
    assert store.get("code") is None and store.get("used") == "g1"
    assert 0 < store.ttl("used") <= 60
    assert store.take_matching("code", expect, "used", "grant_id", 60) is None
    assert store.take_matching("nothing", {}, "used2", "grant_id", 60) is None


def test_take_matching_is_atomic_across_threads(store):
    store.set("code", {"client_id": "rp", "grant_id": "g"}, 10)
    winners = []

    def take():
        if store.take_matching("code", {"client_id": "rp"}, "used", "grant_id", 60):
            winners.append(1)

    threads = [threading.Thread(target=take) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert winners == [1]


def test_incr_counts_atomically_and_keeps_its_ttl(store):
    def bump():
        for _ in range(25):
            store.incr("n", 30)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert store.get("n") == 100
    assert 0 < store.ttl("n") <= 30


def test_embedded_store_is_shared_between_processes(tmp_path):
    """Two processes see one store: what `make run` relies on."""
    import subprocess
    import sys

    path = str(tmp_path / "shared.sqlite3")
    EmbeddedStore(path).set("hello", "world", 60)
    out = subprocess.run([sys.executable, "-c",
                          "import sys; from idp.store.embedded import EmbeddedStore;"
                          f"s=EmbeddedStore({path!r}); print(s.get('hello')); s.incr('c', 60)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "world"
    assert EmbeddedStore(path).get("c") == 1
