"""The sign-in engine: one path from a validated protocol request to its answer.

    adapter endpoint --begin(protocol)--> adapter.begin --> proceed(pending) --step due?--
        none:            adapter.fulfil      (answered in this request)
        due, passive:    adapter.passive_error
        due:             pending saved, browser sent to /continue -> the gate -> the step
    step view --step_done()--> /continue --every step done--> fulfil_pending()

Protocol specifics stay behind the ProtocolAdapter contract (adapter.py).
"""
from __future__ import annotations

from typing import Any

from flask import g, redirect, session, url_for

from ..models import Account
from .adapter import RequestRefused
from .pending import SESSION_KEY, PendingAuthorization, expired_page
from .plan import SignInContext, current_context, first_needed_step
from .registry import adapter_for
from .session import current_account


def begin(protocol: str, source: Any = None):
    """An adapter endpoint received a request: its adapter validates it into a pending
    request (or refuses it with the protocol's answer), then the plan decides."""
    account = current_account()
    try:
        pending, validated = adapter_for(protocol).begin(source, account)
    except RequestRefused as refused:
        return refused.response
    return proceed(pending, account, validated)


def proceed(pending: PendingAuthorization, account: Account | None, validated: Any = None):
    """A request its adapter has just validated: answer it now when no step is due,
    refuse it when it forbids interaction, else keep it and start the steps."""
    adapter = adapter_for(pending.protocol)
    g.signin_ctx = SignInContext(account, pending)
    step = first_needed_step(g.signin_ctx)
    if step is None:
        # Signed in and nothing left to ask: answer now, without a detour by the plan.
        return adapter.fulfil(pending, account, validated)
    if pending.passive:
        return adapter.passive_error(pending, step, validated)
    pending.save()
    return redirect(url_for("signin.resume"))


def _current_pending(protocol: str | None) -> PendingAuthorization | None:
    pending = current_context().pending
    if pending is None or (protocol is not None and pending.protocol != protocol):
        return None
    if adapter_for(pending.protocol) is None:
        return None
    return pending


def fulfil_pending(protocol: str | None = None):
    """Every step is done for this browser (the caller is gated): answer the pending
    request once (it is forgotten first, so a reload cannot answer it twice)."""
    pending = _current_pending(protocol)
    if pending is None:
        return expired_page()
    pending.finish()
    return adapter_for(pending.protocol).fulfil(pending, current_context().account)


def deny_pending(protocol: str | None = None):
    """The family refused: the protocol's refusal goes back to the relying party."""
    pending = _current_pending(protocol)
    if pending is None:
        return expired_page()
    pending.finish()
    return adapter_for(pending.protocol).deny(pending, current_context().account)


def forget_expired() -> bool:
    """True (and the stale reference dropped) when this browser's request expired."""
    if PendingAuthorization.had_expired():
        session.pop(SESSION_KEY, None)
        return True
    return False
