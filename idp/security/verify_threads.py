"""Where the waiting room's password verifications run (security/admission.py `run`):
threads of their own in each process, at a lower scheduling priority, so the kernel gives
the cores to SSO, token and JWKS requests first and to argon2 what is left.

The pool is made on first use in each process: gunicorn forks the workers after the app
is built, and a pool made before the fork would have no threads in the child.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor


class VerifyThreads:
    """One per `Admission` (one per process)."""

    def __init__(self):
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._lock = threading.Lock()

    def run(self, size: int, nice: int, verification, *args):
        """`verification(*args)` in one of `size` threads at niceness `nice` (both read
        when this process's pool is made); its result, or its exception."""
        if self._pool is None or self._pool_pid != os.getpid():  # made after gunicorn forks
            with self._lock:
                if self._pool is None or self._pool_pid != os.getpid():
                    self._pool = ThreadPoolExecutor(
                        max_workers=size, thread_name_prefix="argon2",
                        initializer=_lower_priority, initargs=(nice,))
                    self._pool_pid = os.getpid()
        return self._pool.submit(verification, *args).result()


def _lower_priority(nice: int) -> None:
    """Lower this thread's scheduling priority (Linux schedules threads one by one)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):  # not Linux, or not allowed: normal priority
        pass
