"""Admission control for password verifications: the rentrée-morning waiting room.

One argon2id verification costs ~150 ms of a core and 64 MiB. Past a node's capacity,
letting every sign-in start its verification only piles them up: memory grows by 64 MiB
each, gunicorn's threads fill with them, and requests that need no password (SSO, token,
JWKS) queue behind. So each process lets at most `concurrency` verifications run at once
(a semaphore) and at most `waiters` more threads wait for a slot, each for at most
`wait_seconds`; anything beyond is answered at once with `SigninBusy` (the login journey
turns it into the 503 waiting page, journeys/waiting/). Password requests therefore
hold at most `concurrency + waiters` threads of a worker, and `idp serve` gives each
worker that many threads on top of its usual ones (admin/serve.py): the other requests
always find a free thread. The verifications themselves run in `concurrency` threads of
their own at niceness `verify_nice` (`run`), so the kernel serves the other requests
first and argon2 gets the cycles left over (verify_threads.py). A slot is given back as soon as its
check is over, not when the request ends (admitted.py).

Fairness lives in the store, so it holds across processes and nodes: every sign-in that
cannot start at once takes a ticket in one queue (first come, first served, kept across
its retries by the waiting page's cookie). Only the oldest tickets, `window` of them
(the lane threads of every live process), wait in a thread and may take a slot that
frees up; the others are answered at once with their place and a Retry-After. A family that
retries faster does not move ahead, and one client address holds at most a small share
of the queue. A ticket not renewed for its lease (the retry its page announced, plus a
margin: the family closed the page) leaves; a slot the front leaves unused for
`grace_seconds` (its families between two reloads, or gone) goes to whoever waits, so
abandoned tickets cost a little capacity, never the node's.

A bounded waiting room (`max_wait_seconds`, IDP_SIGNIN_QUEUE_MAX_SECONDS; off by default)
is April 2021's login quota: the queue holds what the node lets in within that many
seconds, and a newcomer who finds it full gets no place, only a later retry
(`full_retry_seconds`, spread so the retries do not come back together). The families
in the queue wait seconds, not minutes; the others try again later, as they would after
the ENTs' "service saturé". An operator's choice: by default every family keeps its place.
The store being down makes `StoreUnavailable` rise: 503, never an unguarded sign-in.
"""
from __future__ import annotations

import math
import os
import random
import secrets
import threading
import time
from dataclasses import dataclass

from ..store import Store
from . import admission_metrics as metrics, admission_stats as stats
from .admitted import Admitted
from .verify_threads import VerifyThreads

QUEUE = "signin"              # tickets of families waiting to sign in
PROCESSES = "signin-processes"  # the live processes, to size the window
POLL_SECONDS = 0.1            # a waiting thread looks at its rank this often
VERIFY_SECONDS = 0.2          # one verification, until measured (argon2id t=3, 64 MiB)
RATE_READ_SECONDS = 1.0       # the cluster's admission rate is read from the store this often
MAX_WAIT_SECONDS = 20.0       # a bounded room's wait in a thread, at most (nginx waits 60 s)
MAX_WAITERS_PER_SLOT = 20     # a bounded room's default waiting threads, at most
PROCESS_LEASE = 30            # a process that stops renewing leaves the count


@dataclass
class SigninBusy(Exception):
    """No slot within the wait: come back in `retry_after` seconds. `position` is the
    ticket's rank (None: the client's address holds its share of the queue already, or
    `full`: the bounded queue has no room, the family comes back later with no place)."""
    ticket: str
    position: int | None
    length: int
    retry_after: int
    full: bool = False

    def __str__(self) -> str:
        return f"sign-in waiting room: position {self.position} of {self.length}"


def default_concurrency(workers: int, argon2_memory_kib: int) -> int:
    """Verifications per process: the cores shared by the workers, and never more than
    half of the memory available at start-up in argon2 buffers."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    by_cpu = max(1, cores // max(1, workers))
    try:
        with open("/proc/meminfo") as fh:
            fields = dict(line.split(":", 1) for line in fh)
        available_kib = int(fields["MemAvailable"].split()[0])
        by_memory = max(1, available_kib // 2 // max(1, argon2_memory_kib) // max(1, workers))
    except (OSError, KeyError, ValueError):
        by_memory = by_cpu
    return max(1, min(by_cpu, by_memory))


class Admission:
    """One per process (built by the login journey at start-up)."""

    def __init__(self, store: Store, *, enabled: bool = True, concurrency: int = 1,
                 waiters: int = 1, wait_seconds: float = 2.0, address_share: float = 0.1,
                 address_min: int = 5, retry_max: int = 20, grace_seconds: float = 0.05,
                 verify_nice: int = 19, max_wait_seconds: float = 0.0,
                 full_retry_seconds: int = 60):
        self.store = store
        self.enabled = enabled
        self.concurrency = max(1, int(concurrency))
        self.waiters = max(0, int(waiters))
        self.wait_seconds = max(0.0, float(wait_seconds))
        self.address_share = float(address_share)
        self.address_min = max(1, int(address_min))
        self.retry_max = max(1, int(retry_max))
        # The bounded waiting room (0: off): no newcomer beyond this many seconds of wait.
        self.max_wait_seconds = max(0.0, float(max_wait_seconds))
        self.full_retry_seconds = max(1, int(full_retry_seconds))
        # A slot left free this long by the front of the queue (its families gone, or
        # between two reloads) goes to whoever waits: a closed page costs a little
        # capacity, never the whole node's.
        self.grace_seconds = float(grace_seconds)
        self._released_at = 0.0
        # Verifications run in `concurrency` threads of their own at this niceness, so
        # the kernel gives the cores to SSO, token and JWKS requests first and to argon2
        # what is left (0: in the request's thread, at its priority).
        self.verify_nice = max(0, int(verify_nice))
        self._threads = VerifyThreads()
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._lock = threading.Lock()
        self._in_lane = 0          # threads verifying or waiting in this process
        # (ticket, thread) -> rank, of this process's waits (two tabs: one ticket, two waits)
        self._waiting_here: dict[tuple[str, int], int] = {}
        self._verify_seconds = VERIFY_SECONDS  # running estimate of one verification
        self._cluster_rate = (None, 0.0)  # (sign-ins/s the cluster let in, when read)
        self._process_id = secrets.token_hex(8)
        self._processes = 1
        self._processes_read = 0.0

    @classmethod
    def from_config(cls, store: Store, config) -> "Admission":
        concurrency = int(config.get("SIGNIN_CONCURRENCY") or 0) or default_concurrency(
            int(config.get("WORKERS") or 1), int(config["ARGON2_MEMORY_COST"]))
        waiters = config.get("SIGNIN_WAITERS")
        max_wait = float(config.get("SIGNIN_QUEUE_MAX_SECONDS") or 0)
        if waiters in (None, ""):
            # Three waits per slot; twice a bounded room's share of the process (the
            # workers do not get equal shares), so that its families wait in a thread
            # rather than reloading.
            waiters = max(3 * concurrency,
                          min(math.ceil(2 * max_wait * concurrency / VERIFY_SECONDS),
                              MAX_WAITERS_PER_SLOT * concurrency))
        return cls(store, enabled=bool(config.get("SIGNIN_ADMISSION", True)),
                   concurrency=concurrency, waiters=int(waiters),
                   wait_seconds=float(config.get("SIGNIN_WAIT_SECONDS", 2)),
                   address_share=float(config.get("SIGNIN_QUEUE_ADDRESS_SHARE", 0.1)),
                   address_min=int(config.get("SIGNIN_QUEUE_ADDRESS_MIN", 5)),
                   grace_seconds=float(config.get("SIGNIN_QUEUE_GRACE_SECONDS", 0.05)),
                   retry_max=int(config.get("SIGNIN_RETRY_MAX", 20)),
                   verify_nice=int(config.get("SIGNIN_VERIFY_NICE", 19)),
                   max_wait_seconds=max_wait,
                   full_retry_seconds=int(config.get("SIGNIN_FULL_RETRY_SECONDS") or 60))

    @property
    def lane_threads(self) -> int:
        """Threads of a worker that password verifications may hold (verifying+waiting)."""
        return self.concurrency + self.waiters if self.enabled else 0

    # -- the queue ------------------------------------------------------------------------
    def lease_for(self, retry_after: int) -> int:
        """How long a ticket keeps its place without being renewed: the retry the page
        announces, the wait of that retry, and a margin for a slow phone."""
        return int(retry_after + self.wait_seconds + 5)

    def window(self) -> int:
        """How many of the oldest tickets may take a free slot: as many as the lanes of
        every live process hold (verifying or waiting), so a slot that frees up finds a
        front ticket waiting in its process more often than not."""
        return max(1, self.lane_threads) * self._live_processes()

    def _live_processes(self) -> int:
        """The processes of the cluster that renewed their lease lately (this one renews
        its own here, at most every PROCESS_LEASE / 3)."""
        now = time.monotonic()
        if now - self._processes_read > PROCESS_LEASE / 3:
            self.store.queue_enter(PROCESSES, self._process_id, self._process_id,
                                   PROCESS_LEASE, 1.0, 1 << 30)
            self._processes = max(1, self.store.queue_length(PROCESSES))
            self._processes_read = now
        return self._processes

    def retry_after(self, position: int | None) -> int:
        """Seconds the waiting page waits before it retries: about the time the tickets
        ahead need, at least 1, at most `retry_max`."""
        if position is None:
            return min(self.retry_max, 5)
        ahead = max(0, position - self.window() // 2)
        # A page that reloads too early costs a request for nothing, one that reloads
        # late keeps its place anyway.
        return max(1, min(self.retry_max, math.ceil(ahead / self._rate())))

    def _rate(self) -> float:
        """Sign-ins/s the cluster lets in: as counted in the store over its last full
        bucket (every process's admissions: gunicorn does not hand the workers equal
        shares, so one process's rate times the processes read up to twice too high in the
        storm bench), never above what the slots could do; the slots' rate when none was
        let in lately."""
        most = self._live_processes() * self.concurrency / max(0.05, self._verify_seconds)
        rate, read = self._cluster_rate
        now = time.monotonic()
        if now - read >= RATE_READ_SECONDS:
            rate = stats.admitted_per_second(self.store)
            self._cluster_rate = (rate, now)
        return most if rate is None else min(most, rate)

    def most_waiting(self) -> int:
        """The bounded queue's room (0: unbounded): the tickets let in within
        `max_wait_seconds` at the measured rate, at least one per slot of the cluster.
        (SIGNIN_WAITERS threads per process let them all wait in a thread, none reload.)"""
        if not self.max_wait_seconds:
            return 0
        return max(self._live_processes() * self.concurrency,
                   math.ceil(self.max_wait_seconds * self._rate()))

    def _full(self, ticket: str, length: int) -> SigninBusy:
        """No room in the bounded queue: a retry later, spread over half as long again."""
        self._turned_away("full")
        retry = random.randint(self.full_retry_seconds, self.full_retry_seconds * 3 // 2)
        return SigninBusy(ticket, None, length, retry, full=True)

    def queue_length(self) -> int:
        return self.store.queue_length(QUEUE)

    def leave(self, ticket: str) -> None:
        """The ticket's sign-in was answered (or its family left): out of the queue."""
        self.store.queue_leave(QUEUE, ticket)

    # -- a slot -----------------------------------------------------------------------------
    def acquire(self, ticket: str, address: str):
        """Wait (bounded) for a verification slot for `ticket`; return the function that
        frees it, or raise SigninBusy. Raises StoreUnavailable when the store is down."""
        if not self.enabled:
            return _nothing
        started = time.monotonic()
        lease = self.lease_for(1)  # renewed while its thread waits
        most = self.most_waiting()
        rank, length = self.store.queue_enter(QUEUE, ticket, address, lease,
                                              self.address_share, self.address_min, most)
        if rank is None and most and length >= most:
            raise self._full(ticket, length)
        if rank is None:
            self._turned_away("address_share")
            raise SigninBusy(ticket, None, length, self.retry_after(None))
        if rank >= self.window():
            # Behind the front: no thread waits for it (the lane is for the front), but a
            # slot the front left unused past the grace is anyone's.
            if time.monotonic() - self._released_at >= self.grace_seconds \
                    and self._enter_lane():
                if self._slots.acquire(blocking=False):
                    return self._admitted(ticket, started)
                self._leave_lane()
            self._turned_away("behind")
            raise self._busy(ticket, address, rank, length)
        if not self._enter_lane():
            self._turned_away("lane_full")
            raise self._busy(ticket, address, rank, length)
        metrics.waiting(+1)
        admitted = False
        self._wait_here(ticket, rank)
        try:
            deadline = started + self._wait_bound()
            while True:
                step = max(0.0, min(POLL_SECONDS, deadline - time.monotonic()))
                if not self._first_here(ticket):
                    time.sleep(step)
                elif self._slots.acquire(timeout=step):
                    admitted = True
                    break
                if time.monotonic() >= deadline:
                    break
                rank, length = self.store.queue_enter(QUEUE, ticket, address, lease,
                                                      self.address_share, self.address_min)
                self._wait_here(ticket, rank := 0 if rank is None else rank)
        finally:
            metrics.waiting(-1)
            with self._lock:
                self._waiting_here.pop((ticket, threading.get_ident()), None)
            if not admitted:
                self._leave_lane()
        if not admitted:
            self._turned_away("wait_over")
            raise self._busy(ticket, address, rank, length)
        return self._admitted(ticket, started)

    def _wait_here(self, ticket: str, rank: int) -> None:
        with self._lock:
            self._waiting_here[(ticket, threading.get_ident())] = rank

    def _first_here(self, ticket: str) -> bool:
        """Of the tickets waiting in this process, is this one the oldest? Only it waits
        on the slots: a slot freed here goes to the longest-waiting family here, not to
        whichever thread began to wait first (a reload starts a new wait)."""
        with self._lock:
            mine = self._waiting_here.get((ticket, threading.get_ident()))
            return mine is None or all(mine <= rank for rank in self._waiting_here.values())

    def _wait_bound(self) -> float:
        """How long a sign-in waits in its thread: SIGNIN_WAIT_SECONDS, or in a bounded
        room twice its seconds (its families are let in within about that; each process
        serves its own waits, so some wait longer than the room's average: better in the
        thread than a waiting page and a reload), never more than MAX_WAIT_SECONDS (a
        proxy's timeout would lose the answer)."""
        return max(self.wait_seconds, min(2 * self.max_wait_seconds, MAX_WAIT_SECONDS))

    def _enter_lane(self) -> bool:
        """One more thread held by a verification or a wait, unless the lane is full."""
        with self._lock:
            if self._in_lane >= self.lane_threads:
                return False
            self._in_lane += 1
            return True

    def _leave_lane(self) -> None:
        with self._lock:
            self._in_lane -= 1

    def _admitted(self, ticket: str, started: float):
        """The slot is this ticket's: out of the queue; the function that frees it."""
        try:
            self.store.queue_leave(QUEUE, ticket)
            stats.count(self.store, "admitted")
        except BaseException:  # the store down: a 503, and the slot is not kept
            self._free()
            raise
        metrics.admitted(time.monotonic() - started)
        return Admitted(self)

    def _busy(self, ticket: str, address: str, rank: int, length: int) -> SigninBusy:
        """The answer to a sign-in that waits on: its place is kept for the retry the
        page announces (and a margin), not longer, so a closed page soon frees it."""
        retry = self.retry_after(rank)
        self.store.queue_enter(QUEUE, ticket, address, self.lease_for(retry),
                               self.address_share, self.address_min)
        return SigninBusy(ticket, rank, length, retry)

    # -- the verification itself ---------------------------------------------------------
    def run(self, verification, *args, admitted: Admitted | None = None):
        """Run `verification(*args)` (an argon2 check) in the low-priority verification
        threads of this process; in the calling thread when switched off. `admitted`:
        the sign-in's slot, given back as soon as the check is over."""
        if isinstance(admitted, Admitted):
            admitted.slot_back()
            try:
                return self.run(verification, *args)
            finally:
                admitted.verified()
        if not self.enabled or not self.verify_nice:
            return verification(*args)
        return self._threads.run(self.concurrency, self.verify_nice, verification, *args)

    # -- what the console shows (every node: counts in the store, by hour) --------------
    def _turned_away(self, reason: str) -> None:
        metrics.turned_away(reason)
        stats.count(self.store, "turned_away")

    def hourly_counts(self, hours: int = 2) -> list[dict]:
        """Sign-ins let in and waiting pages answered by the whole cluster, per hour,
        newest first (admission_stats.py)."""
        return stats.hourly_counts(self.store, hours)

    # -- what an admitted sign-in gives back (admitted.py) ------------------------------
    def slot_freed(self, held_seconds: float) -> None:
        with self._lock:
            self._verify_seconds = 0.8 * self._verify_seconds + 0.2 * held_seconds
        self._released_at = time.monotonic()
        self._slots.release()

    def slot_again(self) -> bool:
        return self._slots.acquire(timeout=self.wait_seconds)

    def lane_left(self) -> None:
        self._leave_lane()

    def _free(self) -> None:
        self._released_at = time.monotonic()
        self._slots.release()
        self._leave_lane()


def _nothing() -> None:
    return None
