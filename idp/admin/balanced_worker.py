"""gunicorn's threaded worker, with connections spread evenly over the worker processes.

gthread accepts every connection it sees, busy or not, and keeps it for its whole
keep-alive life. The few long-lived connections of an RP's HTTP pool or a reverse proxy's
upstream pool then pile up on one worker while the other idles: seen with `idp serve
--workers 2`, 8 keep-alive connections out of 8 on one worker, half the CPU unused and
code flows at a third of their rate.

Here each worker publishes how many connections it holds in a small table shared by the
workers (created when gunicorn loads this class, before it forks them), and:

  - accepts a new connection only while no other worker holds fewer;
  - answers with "Connection: close" while it holds more than one connection above the
    least loaded worker, so that client reconnects, to a worker with fewer.

Evenly spread connections stay open (keep-alive as usual); a worker that died leaves the
table within a second.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import time

from gunicorn.workers.gthread import ThreadWorker

SLOTS = 64  # workers taking part; more than that serve without balancing
_pids = multiprocessing.RawArray(ctypes.c_int, SLOTS)
_connections = multiprocessing.RawArray(ctypes.c_int, SLOTS)
_claim = multiprocessing.Lock()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BalancedThreadWorker(ThreadWorker):
    def init_process(self):
        self._slot = self._claim_slot()
        self._others: list[int] = []
        self._looked = 0.0
        super().init_process()  # runs the worker's loop until it stops

    @staticmethod
    def _claim_slot() -> int | None:
        pid = os.getpid()
        with _claim:
            for slot in range(SLOTS):
                if _pids[slot] == 0 or not _alive(_pids[slot]):
                    _pids[slot], _connections[slot] = pid, 0
                    return slot
        return None

    def _fewest_elsewhere(self) -> int | None:
        """The connections of the least loaded other worker (None: no other worker, or
        this one has no slot: `_others` stays empty)."""
        return min((_connections[slot] for slot in self._others), default=None)

    def wait_for_and_dispatch_events(self, timeout):
        """Each turn of the worker's loop: publish, look around, accept or not."""
        if self._slot is not None:
            _connections[self._slot] = self.nr_conns
            now = time.monotonic()
            if not self._others or now - self._looked >= 1.0:  # new workers are seen at once
                self._looked = now
                self._others = [slot for slot in range(SLOTS) if slot != self._slot
                                and _pids[slot] and _alive(_pids[slot])]
            self.set_accept_enabled(self.nr_conns < self.worker_connections)
        super().wait_for_and_dispatch_events(timeout)

    def set_accept_enabled(self, enabled):
        fewest = self._fewest_elsewhere()
        super().set_accept_enabled(enabled and (fewest is None or self.nr_conns <= fewest))

    # gthread closes after the response when len(keepalived_conns) >= max_keepalived
    # (read by the request's thread): 0 while this worker holds too many connections.
    @property
    def max_keepalived(self):
        fewest = self._fewest_elsewhere()
        if fewest is not None and self.nr_conns > fewest + 1:
            return 0
        return self._max_keepalived

    @max_keepalived.setter
    def max_keepalived(self, value):
        self._max_keepalived = value

    def run(self):
        try:
            super().run()
        finally:
            if self._slot is not None:
                _pids[self._slot] = 0
