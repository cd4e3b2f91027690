"""What a sign-in let in by the waiting room holds (security/admission.py).

A verification slot bounds argon2: its cores and its 64 MiB. The rest of the request
(the session, the audit record, the redirect, forgetting the hold) needs neither, so
the slot goes back as soon as the check is over and the next family's check starts
while this request finishes; the request's lane thread stays counted until it ends, so
password requests still hold at most `concurrency + waiters` threads of a worker. The
storm bench measured the slot held outside argon2 for 6–8 % of its time before.
"""
from __future__ import annotations

import time


class Admitted:
    """Made by `Admission` for a sign-in it lets in; calling it (at the request's end)
    frees whatever it still holds."""

    def __init__(self, room):
        self._room = room
        self._holds_slot = True
        self._since = time.monotonic()

    def verified(self) -> None:
        """The check is over: its slot is the next family's."""
        if self._holds_slot:
            self._holds_slot = False
            self._room.slot_freed(time.monotonic() - self._since)

    def slot_back(self) -> None:
        """A second check in the same request (rare): a slot again, without queueing (the
        family was let in already), waiting for it at most the wait bound."""
        if not self._holds_slot:
            self._holds_slot = self._room.slot_again()
            self._since = time.monotonic()

    def __call__(self) -> None:
        self.verified()
        self._room.lane_left()
