"""The passwords service with the sign-in waiting room in front of its verifications
(security/admission.py): during a sign-in (a request with a ticket, given by the waiting
room's hooks, journeys/waiting/hooks.py) the first verification takes a slot and runs in
the low-priority verification threads; every other use passes straight through."""
from __future__ import annotations

from flask import g, has_request_context

from .admission import Admission
from .client_address import client_key


class AdmittedPasswords:
    """Built once per process by create_app, as `passwords()`."""

    def __init__(self, passwords, admission: Admission):
        self._passwords = passwords
        self._admission = admission

    def verify(self, stored_hash, password) -> bool:
        if has_request_context() and g.get("signin_ticket") and "signin_release" not in g:
            g.signin_release = self._admission.acquire(g.signin_ticket, client_key())
        if has_request_context() and "signin_release" in g:  # low-priority threads
            return self._admission.run(self._passwords.verify, stored_hash, password,
                                       admitted=g.signin_release)
        return self._passwords.verify(stored_hash, password)

    def __getattr__(self, name):
        return getattr(self._passwords, name)
