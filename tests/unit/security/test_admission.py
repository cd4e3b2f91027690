"""Admission (security/admission.py) on a real store: slots, the bounded lane of
waiting threads, the window of the oldest tickets, SigninBusy with a Retry-After."""
from __future__ import annotations

import os
import threading
import time

import pytest

from idp.security.admission import Admission, SigninBusy, default_concurrency
from idp.store.embedded import EmbeddedStore


@pytest.fixture
def store(tmp_path):
    return EmbeddedStore(str(tmp_path / "store.sqlite3"))


def test_default_concurrency_follows_cores_and_memory():
    assert default_concurrency(1, 65536) >= 1
    assert default_concurrency(1000, 65536) == 1  # never 0
    assert default_concurrency(1, 1 << 40) == 1  # the memory bounds it


def test_a_free_slot_is_taken_and_given_back(store):
    room = Admission(store, concurrency=1, waiters=1, wait_seconds=0.1)
    release = room.acquire("t1", "a")
    with pytest.raises(SigninBusy) as busy:
        room.acquire("t2", "b")
    assert busy.value.position == 0 and busy.value.retry_after >= 1
    release()
    room.acquire("t2", "b")()
    assert room.queue_length() == 0


def test_waiting_threads_are_bounded(store):
    """Beyond `waiters` threads waiting, a sign-in is answered at once (its thread is
    not held): password requests never take more than concurrency + waiters threads."""
    room = Admission(store, concurrency=1, waiters=1, wait_seconds=1.0)
    release = room.acquire("holder", "a")
    waiting = threading.Event()
    outcome = {}

    def wait_for_slot():
        waiting.set()
        try:
            room.acquire("waiter", "b")()
            outcome["waiter"] = "admitted"
        except SigninBusy:
            outcome["waiter"] = "busy"

    thread = threading.Thread(target=wait_for_slot)
    thread.start()
    waiting.wait()
    import time
    time.sleep(0.2)  # the waiter is in the lane now
    with pytest.raises(SigninBusy):
        room.acquire("third", "c")  # lane full: answered without waiting
    release()
    thread.join()
    assert outcome["waiter"] == "admitted"


def test_only_the_oldest_tickets_may_take_a_free_slot(store):
    room = Admission(store, concurrency=1, waiters=0, wait_seconds=0.0, grace_seconds=60)
    release = room.acquire("holder", "a")
    for i in range(room.window() + 2):
        with pytest.raises(SigninBusy):
            room.acquire(f"early{i}", f"e{i}")
    with pytest.raises(SigninBusy):
        room.acquire("late", "l")
    release()
    with pytest.raises(SigninBusy) as busy:  # a slot is free, but not for the back
        room.acquire("late", "l")
    assert busy.value.position == room.window() + 2
    room.acquire("early0", "e0")()  # the front gets it


def test_switched_off_it_never_waits(store):
    room = Admission(store, enabled=False, concurrency=1)
    room.acquire("a", "x")
    room.acquire("b", "y")()
    assert room.lane_threads == 0


def test_a_slot_the_front_leaves_unused_goes_to_whoever_waits(store):
    """The front's families closed their pages: past the grace, the back gets the slot
    rather than the node idling until their tickets' leases run out. The back never
    waits in a thread (the lane is for the front): it is answered at once."""
    room = Admission(store, concurrency=1, waiters=1, wait_seconds=0.0, grace_seconds=0.3)
    release = room.acquire("holder", "a")
    for i in range(room.window() + 1):
        with pytest.raises(SigninBusy):
            room.acquire(f"gone{i}", f"g{i}")
    release()
    with pytest.raises(SigninBusy):
        room.acquire("back", "b")  # within the grace: kept for the front
    import time
    time.sleep(0.35)
    room.acquire("back", "b")()  # the grace over, the unused slot is the back's


def test_a_ticket_turned_away_keeps_its_place_for_the_announced_retry_only(store):
    room = Admission(store, concurrency=1, waiters=0, wait_seconds=0.0)
    release = room.acquire("holder", "a")
    with pytest.raises(SigninBusy) as busy:
        room.acquire("t", "b")
    assert busy.value.retry_after <= 2
    assert room.lease_for(busy.value.retry_after) <= 8  # not the 20 s of the worst case
    release()


def test_verifications_run_in_low_priority_threads_of_their_own(store):
    room = Admission(store, concurrency=1, verify_nice=10)
    seen = room.run(lambda: (threading.current_thread().name,
                             os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
    assert seen[0].startswith("argon2")
    assert seen[1] >= 10
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < 10  # ours untouched
    room.verify_nice = 0
    assert room.run(lambda: threading.current_thread().name) == \
        threading.current_thread().name


def test_the_passwords_service_verifies_outside_any_request_or_app_context(app):
    """A CLI command, the worker or a bench verifies a password with no request (and
    maybe no app context): it passes straight through, never an error."""
    passwords = app.extensions["idp"]["passwords"]
    with app.app_context():
        stored = passwords.hash("Cartable-Bleu-2026")
        assert passwords.verify(stored, "Cartable-Bleu-2026")
    assert passwords.verify(stored, "Cartable-Bleu-2026")
    assert not passwords.verify(stored, "autre")


def test_a_slot_is_given_back_when_the_check_is_over_not_when_the_request_ends(store):
    """The slot bounds argon2 (its cores, its 64 MiB), not the rest of the request: the
    next family's check starts while the first one's request opens its session. The
    first request still holds its lane thread until it ends."""
    room = Admission(store, concurrency=1, waiters=1, wait_seconds=0.0, verify_nice=0)
    first = room.acquire("first", "a")
    assert room.run(lambda: True, admitted=first)
    second = room.acquire("second", "b")  # SigninBusy while the slot lasted the request
    with pytest.raises(SigninBusy):
        room.acquire("third", "c")  # two threads in the lane: its bound holds
    first()
    second()
    room.acquire("third", "c")()


def test_a_second_check_in_the_same_request_takes_a_slot_again(store):
    room = Admission(store, concurrency=1, waiters=1, wait_seconds=0.2, verify_nice=0)
    first = room.acquire("first", "a")
    room.run(lambda: True, admitted=first)
    taken = []
    assert room.run(lambda: taken.append(room._slots.acquire(blocking=False)) or True,
                    admitted=first)
    assert taken == [False]  # it ran in the slot, not beside it
    first()
    room.acquire("next", "b")()


def admitted_lately(store, room, count: int) -> None:
    """The whole cluster let in `count` sign-ins over the last 5-second bucket (the
    current one too, should the test cross into the next)."""
    bucket = int(time.time() // 5)
    for key in (bucket - 1, bucket):
        store.set(f"signin-rate:{key}", count, 60)
    room._cluster_rate = (None, 0.0)  # read it now


def test_the_bounded_queue_holds_the_wait_it_is_given(store):
    """SIGNIN_QUEUE_MAX_SECONDS: room for what the measured rate lets in within that
    wait (never less than the window); the newcomer beyond it is `full`, told to retry
    in SIGNIN_FULL_RETRY_SECONDS to half as long again, and holds no place."""
    assert Admission(store).most_waiting() == 0  # off by default: unbounded
    room = Admission(store, concurrency=1, waiters=0, wait_seconds=0,
                     max_wait_seconds=3, full_retry_seconds=40)
    room._verify_seconds = 0.25  # the slot could do 4 a second
    assert room.most_waiting() == 12  # nothing let in lately: what the slots could do
    release = room.acquire("holder", "a")
    admitted_lately(store, room, 5)  # the cluster let in 5 in 5 s: 1 a second
    assert room.most_waiting() == 3
    for n in range(3):
        with pytest.raises(SigninBusy) as kept:
            room.acquire(f"t{n}", f"address{n}")
        assert not kept.value.full and kept.value.position == n
    with pytest.raises(SigninBusy) as full:
        room.acquire("late", "address9")
    assert full.value.full and full.value.position is None
    assert 40 <= full.value.retry_after <= 60
    assert room.queue_length() == 3
    release()


def test_a_slot_freed_goes_to_the_oldest_ticket_waiting_in_the_process(store):
    """Point 3 within a process: the ticket that came first gets the slot, even when its
    thread began to wait after younger ones' (its page reloaded)."""
    room = Admission(store, concurrency=1, waiters=4, wait_seconds=3)
    release = room.acquire("holder", "a")
    store.queue_enter("signin", "old", "b", 30, 1.0, 100)  # first in the queue
    order = []

    def sign_in(ticket, address):
        free = room.acquire(ticket, address)
        order.append(ticket)
        time.sleep(0.1)
        free()

    threads = [threading.Thread(target=sign_in, args=(f"young{n}", f"c{n}")) for n in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # the younger tickets wait first
    threads.append(threading.Thread(target=sign_in, args=("old", "b")))
    threads[-1].start()
    time.sleep(0.3)
    release()
    for thread in threads:
        thread.join(5)
    assert order[0] == "old" and sorted(order[1:]) == ["young0", "young1", "young2"]


def test_a_bounded_room_gets_waiting_threads_for_its_share_of_the_process(store):
    """SIGNIN_WAITERS unset: three waits per slot, or the bounded room's share of a
    process, twice (its seconds x 5 verifications a second per slot), whichever is more."""
    base = {"ARGON2_MEMORY_COST": 65536, "SIGNIN_CONCURRENCY": 2}
    assert Admission.from_config(store, base).waiters == 6
    bounded = {**base, "SIGNIN_QUEUE_MAX_SECONDS": 2}
    assert Admission.from_config(store, bounded).waiters == 40
    assert Admission.from_config(store, {**bounded, "SIGNIN_WAITERS": 4}).waiters == 4


def test_a_store_failure_as_a_sign_in_is_let_in_keeps_no_slot(store, monkeypatch):
    """The store fails between taking the slot and counting the admission: a 503
    (StoreUnavailable), and the slot and the lane thread go back, or the worker would
    turn every later sign-in away."""
    from idp.security import admission_stats
    from idp.store import StoreUnavailable

    room = Admission(store, concurrency=1, waiters=0, wait_seconds=0)

    def down(*args, **kwargs):
        raise StoreUnavailable("down")

    monkeypatch.setattr(admission_stats, "count", down)
    with pytest.raises(StoreUnavailable):
        room.acquire("t1", "a")
    monkeypatch.undo()
    room.acquire("t2", "b")()  # the slot was given back
    assert room._in_lane == 0


def test_a_bounded_room_waits_within_a_proxys_timeout(store):
    """A long bounded room (60 s) does not hold requests past what nginx waits for an
    answer (60 s), nor grow a worker's threads without end."""
    room = Admission.from_config(store, {"ARGON2_MEMORY_COST": 65536, "SIGNIN_CONCURRENCY": 1,
                                         "SIGNIN_QUEUE_MAX_SECONDS": 60})
    assert room._wait_bound() == 20 and room.waiters == 20
