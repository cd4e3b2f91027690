"""The ordered steps between a request and its fulfilment.

Each journey registers its step: a name, the endpoint that serves it and
`is_needed(ctx)`, re-checked every time the plan is consulted so a step done elsewhere
(another tab, another process) is skipped. The order is fixed here, in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import g, session

from .pending import PendingAuthorization
from .session import current_account

ORDER = ("wayf", "login", "activation", "second_factor", "charter", "preferences",
         "rp_notice", "consent")


@dataclass
class SignInContext:
    """What a step needs to decide: the signed-in account (or None) and the pending request."""
    account: object | None
    pending: PendingAuthorization | None

    @property
    def auth_time(self) -> float:
        return float(session.get("auth_time") or 0)


@dataclass(frozen=True)
class Step:
    """One step of the plan. Its view is decorated with `steps.step_page(name)` and
    finishes with `steps.step_done()`.

    `bound`: the step's forms carry the binding of the request and account they were
    shown for (steps.binding). The steps that come before an account is known or that
    only touch the signed-in account itself (wayf, login, activation) are not bound:
    they write nothing about the pending request, and their CSRF tokens already die
    with the session id at sign-in.
    `skippable`: a page a family may open directly without having done this step
    (the WAYF is a preference: /connexion works without it)."""
    name: str
    endpoint: str
    is_needed: Callable[[SignInContext], bool]
    bound: bool = True
    skippable: bool = False


_STEPS: dict[str, Step] = {}


def register_step(step: Step) -> None:
    if step.name not in ORDER:
        raise ValueError(f"unknown step {step.name}: add it to plan.ORDER")
    _STEPS[step.name] = step


def current_context() -> SignInContext:
    """The context for this request (computed once per request)."""
    if "signin_ctx" not in g:
        g.signin_ctx = SignInContext(current_account(), PendingAuthorization.current())
    return g.signin_ctx


def first_needed_step(ctx: SignInContext | None = None) -> Step | None:
    ctx = ctx or current_context()
    for name in ORDER:
        step = _STEPS.get(name)
        if step is not None and step.is_needed(ctx):
            return step
    return None


def needs_fresh_login(ctx: SignInContext) -> bool:
    """prompt=login / ForceAuthn, or max_age exceeded, for the pending request. A sign-in
    made after the request was received always satisfies it (so max_age=0 cannot loop)."""
    pending = ctx.pending
    if pending is None or ctx.auth_time >= pending.created:
        return False
    if pending.force_login:
        return True
    return pending.max_age is not None and pending.created - ctx.auth_time > pending.max_age
