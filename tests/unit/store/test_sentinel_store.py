"""The store through Redis Sentinel (idp/store/sentinel.py), on a private master, replica
and sentinel (tests/support/sentinel.py): the store's promises hold, a failover under
writes loses none of them and fails none, and no master at all is StoreUnavailable (503)
while a master name no sentinel knows stops start-up in one line."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from idp import create_app
from idp.config import ConfigError, load, validate
from idp.store import StoreUnavailable, open_store
from idp.store.sentinel import SentinelStore, StoreMisconfigured, parse_sentinels
from tests.support.sentinel import sentinel_set  # noqa: F401 - the fixture
from tests.support.served import free_port, settings_env

WRITERS = 4


def sentinel_store(sentinel_set, **settings) -> SentinelStore:
    return open_store({"REDIS_SENTINELS": sentinel_set.sentinels, "STORE_PREFIX": "t:",
                       **settings})


def test_the_store_promises_hold_through_sentinel(sentinel_set):
    store = sentinel_store(sentinel_set)
    assert isinstance(store, SentinelStore)
    store.set("k", {"a": 1}, 10)
    assert store.get("k") == {"a": 1} and 0 < store.ttl("k") <= 10
    assert store.add("n", 1, 10) is True and store.add("n", 2, 10) is False
    store.set_many({"x": (1, 10), "y": ([2], 10)})
    assert (store.get("x"), store.get("y")) == (1, [2])
    assert [store.incr("c", 10) for _ in range(3)] == [1, 2, 3]
    code = {"client_id": "rp", "grant_id": "g1"}
    store.set("code", code, 10)
    assert store.take_matching("code", {"client_id": "other"}, "used", "grant_id", 60) is None
    assert store.take_matching("code", {"client_id": "rp"}, "used", "grant_id", 60) == code
    assert store.get("used") == "g1" and store.take("code") is None
    store.set("t", 1, 10)
    assert store.take("t") == 1 and store.take("t") is None
    store.delete("k", "x")
    assert store.get("k") is None and store.get("x") is None
    # Written on the master and on its replica (WAIT saw it there).
    assert sentinel_set.master_redis().get("t:y") == b"[2]"


@pytest.mark.parametrize("how", ["failover", "kill"])
def test_a_failover_under_writes_loses_no_write_and_fails_none(sentinel_set, how):
    """SENTINEL FAILOVER (the former master keeps accepting writes for seconds) and a
    killed master: every acknowledged write is on the new master, no operation failed."""
    store = sentinel_store(sentinel_set, REDIS_FAILOVER_SECONDS=15)
    written, counted, errors = [], [0] * WRITERS, []
    stop = threading.Event()

    def writer(n: int):
        i = 0
        while not stop.is_set():
            try:
                store.set(f"w{n}-{i}", i, 300)
                written.append(f"w{n}-{i}")
                store.incr("counter", 300)
                counted[n] += 1
                assert store.get(f"w{n}-{i}") == i
            except Exception as exc:  # noqa: BLE001 - the test counts every failure
                errors.append(repr(exc))
            i += 1
            time.sleep(0.003)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    before = sentinel_set.master()
    after = sentinel_set.failover() if how == "failover" else sentinel_set.kill_master()
    time.sleep(1.5)  # writes go on against the new master
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert after != before
    assert errors == [], f"{len(errors)} operations failed, the first: {errors[:3]}"
    new_master = sentinel_set.master_redis()
    values = new_master.mget([f"t:{key}" for key in written])
    lost = [key for key, value in zip(written, values) if value is None]
    assert lost == [], f"{len(lost)} of {len(written)} acknowledged writes lost"
    assert len(written) > 200, f"only {len(written)} writes in 2 s: the store stalled"
    # An increment retried after its answer was lost may count twice; none is lost.
    total = int(new_master.get("t:counter"))
    assert sum(counted) <= total <= sum(counted) + WRITERS


def test_a_pooled_connection_to_a_former_master_is_not_read_from(sentinel_set, monkeypatch):
    """After a failover the pool may still hold a connection to the former master, now a
    replica copying the new master and answering reads from its old data (a key just
    written read as None, seen once under the failover test above). With no replica to
    WAIT for, ROLE in the same round trip catches it: the operation runs again on the
    master. Here the stale server is the replica, made writable to hold an old value."""
    store = sentinel_store(sentinel_set)
    store.set("k", "new", 60)
    master = sentinel_set.master()
    replica_port = next(port for port in sentinel_set.servers if port != master[1])
    replica = redis.Redis(host=master[0], port=replica_port, socket_timeout=2)
    replica.config_set("replica-read-only", "no")
    replica.set("t:k", '"old"')  # a local write: never sent to the master
    monkeypatch.setattr(store, "_expected_replicas", lambda fresh=False: 0)
    pool = store._redis.connection_pool
    stale = pool.make_connection()
    stale.connect_to((master[0], replica_port))  # a socket to the replica, as one left over
    pool._available_connections.append(stale)  # the next one handed out
    assert store.get("k") == "new"
    assert stale._sock is None  # dropped, not handed out again


def test_a_write_no_replica_confirms_is_unavailable_not_acknowledged(sentinel_set):
    """A frozen replica: the write is not answered as done while it sits on the master
    alone (a failover could lose it); StoreUnavailable after FAILOVER_SECONDS. Once the
    sentinel marks the replica down (nothing left to promote), writes go through; once it
    is back, they are confirmed by it again."""
    store = sentinel_store(sentinel_set, REDIS_FAILOVER_SECONDS=0.5)
    store.set("before", 1, 60)
    replica = sentinel_set.freeze_replica()
    try:
        with pytest.raises(StoreUnavailable, match="no replica of 'mymaster' confirmed"):
            store.set("frozen", 1, 60)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                store.set("alone", 1, 60)  # the sentinel saw the replica down
                break
            except StoreUnavailable:
                time.sleep(0.2)
        else:
            pytest.fail("writes never went through with the replica marked down")
    finally:
        replica.send_signal(signal.SIGCONT)
    sentinel_set._until(sentinel_set._replica_known, "the replica back in sync")
    store.set("after", 2, 60)
    assert store.get("after") == 2 and store.get("before") == 1


def test_no_master_left_is_unavailable_after_the_wait_not_an_error(sentinel_set):
    store = sentinel_store(sentinel_set, REDIS_FAILOVER_SECONDS=1.5)
    store.set("k", 1, 10)
    sentinel_set.kill_all()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as exc:
        store.get("k")
    assert 1.5 <= time.monotonic() - started < 5
    assert "no Redis master for 'mymaster' after 1.5 s" in str(exc.value)


def test_sentinels_that_do_not_answer_are_an_outage(sentinel_set):
    store = sentinel_store(sentinel_set, REDIS_FAILOVER_SECONDS=0.5)
    sentinel_set.stop()
    with pytest.raises(StoreUnavailable):
        store.set("k", 1, 10)


def test_a_master_name_no_sentinel_monitors_stops_start_up_in_one_line(sentinel_set):
    with pytest.raises(StoreMisconfigured) as exc:
        sentinel_store(sentinel_set, REDIS_SENTINEL_MASTER="autre")
    message = str(exc.value)
    assert "\n" not in message and "no Redis master named 'autre'" in message
    assert sentinel_set.sentinels in message and "IDP_REDIS_SENTINEL_MASTER" in message


@pytest.mark.parametrize("value, error", [
    ("127.0.0.1", "'127.0.0.1' is not host:port"),
    ("127.0.0.1:26379,h:x", "'h:x' is not host:port"),
    ("", "names no sentinel"),
])
def test_unreadable_sentinel_lists_are_refused_in_one_line(value, error):
    with pytest.raises(ValueError, match=error):
        parse_sentinels(value)


def test_sentinel_settings_are_checked_at_start_up(settings, tmp_path):
    def loaded(**extra):
        return load({**settings, "REDIS_URL": None,
                     "REDIS_SENTINELS": "127.0.0.1:26379,[::1]:26380", **extra},
                    environ={"IDP_CONFIG": str(tmp_path / "none.toml")})

    validate(loaded())
    assert parse_sentinels(loaded()["REDIS_SENTINELS"]) == [("127.0.0.1", 26379),
                                                             ("::1", 26380)]
    assert loaded()["REDIS_SENTINEL_MASTER"] == "mymaster"
    for extra, error in (({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "both set"),
                         ({"REDIS_SENTINELS": "nowhere"}, "is not host:port"),
                         ({"REDIS_FAILOVER_SECONDS": 0}, "above 0")):
        with pytest.raises(ConfigError, match=error):
            validate(loaded(**extra))


def test_idp_serve_refuses_a_master_name_no_sentinel_monitors(settings, sentinel_set):
    env = settings_env(settings, REDIS_URL=None, REDIS_SENTINELS=sentinel_set.sentinels,
                       REDIS_SENTINEL_MASTER="autre")
    done = subprocess.run([str(Path(sys.executable).with_name("idp")), "serve", "--bind",
                           f"127.0.0.1:{free_port()}"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: the sentinels at {sentinel_set.sentinels} monitor no Redis master named "
        f"'autre' (IDP_REDIS_SENTINEL_MASTER)"]


def test_with_no_master_pages_and_the_token_endpoint_answer_503(settings, sentinel_set, make):
    node = create_app({**settings, "REDIS_URL": None, "REDIS_SENTINELS": sentinel_set.sentinels,
                       "REDIS_FAILOVER_SECONDS": 0.5})
    rp = make.oidc_client()
    client = node.test_client()
    assert client.get("/connexion").status_code == 200
    sentinel_set.kill_all()
    page = client.get("/connexion")
    assert page.status_code == 503 and "momentanément indisponible" in page.text
    token = client.post("/oidc/token", data={
        "grant_type": "authorization_code", "code": "abc", "redirect_uri": rp.redirect_uri,
        "code_verifier": "v" * 43}, auth=(rp.client_id, rp.client_secret))
    assert token.status_code == 503 and token.json["error"] == "temporarily_unavailable"
