"""Plans: ordered steps over a context, re-checked each time they are consulted.

`Plan` is the engine's one step machine. The sign-in plan (SIGN_IN, below) runs between
a relying party's request and its answer: each journey registers its step with a name,
the endpoint that serves it and `is_needed(ctx)`, re-checked on every request so a step
done elsewhere (another tab, another process) is skipped. Sign-up (J4) is a sub-plan of
the same kind over its own transaction (journeys/signup/plan.py). The order of each plan
is fixed in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import g, redirect, render_template, session, url_for

from ..audit import record
from .binding import bind
from .pending import SESSION_KEY, PendingAuthorization, expired_page
from .session import current_account


@dataclass(frozen=True)
class Step:
    """One step of a plan. Its view is decorated with `steps.step_page(name)` and
    finishes with `steps.step_done()`.

    `bound`: the step's forms carry the plan's binding (binding.py). The sign-in steps
    that come before an account is known or that only touch the signed-in account itself
    (wayf, login, activation) are not bound: they write nothing about the pending
    request, and their CSRF tokens already die with the session id at sign-in.
    `skippable`: a page a family may open directly without having done this step
    (the WAYF is a preference: /connexion works without it)."""
    name: str
    endpoint: str
    is_needed: Callable[[Any], bool]
    bound: bool = True
    skippable: bool = False


class Plan:
    """Ordered steps over a context. Subclasses say how the context is found, what a
    form is bound to, and where the browser goes when a page is out of turn."""

    order: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.steps: dict[str, Step] = {}

    def register(self, step: Step) -> None:
        if step.name not in self.order:
            raise ValueError(f"unknown step {step.name}: add it to the plan's order")
        self.steps[step.name] = step

    def first_needed(self, ctx) -> Step | None:
        for name in self.order:
            step = self.steps.get(name)
            if step is not None and step.is_needed(ctx):
                return step
        return None

    def is_turn_of(self, name: str, ctx) -> bool:
        """`name` is the first step needed, skippable steps before it aside."""
        for other in self.order:
            step = self.steps.get(other)
            if step is None or not step.is_needed(ctx):
                continue
            if other == name:
                return True
            if not step.skippable:
                return False
        return False

    # -- what each plan defines --------------------------------------------------------
    def context(self):
        """This request's context (what `is_needed` reads)."""
        raise NotImplementedError

    def unavailable(self, ctx):
        """A response when there is nothing to go through (no context), else None."""
        return None

    def binding(self, ctx) -> str:
        raise NotImplementedError

    def resume(self, ctx):
        """The response that takes the browser to where the plan is."""
        raise NotImplementedError

    def refused(self, ctx, step: str):
        """The answer to a bound form that does not carry the current binding."""
        raise NotImplementedError


@dataclass
class SignInContext:
    """What a step needs to decide: the signed-in account (or None) and the pending request."""
    account: object | None
    pending: PendingAuthorization | None

    @property
    def auth_time(self) -> float:
        return float(session.get("auth_time") or 0)


class SignInPlan(Plan):
    # password_change (a forced change, issue 17) comes after the second factor: a stolen
    # password alone must not be enough to choose the next one.
    order = ("wayf", "login", "activation", "second_factor", "password_change", "charter",
             "preferences", "rp_notice", "consent")

    def context(self) -> SignInContext:
        """The context for this request (computed once per request)."""
        if "signin_ctx" not in g:
            g.signin_ctx = SignInContext(current_account(), PendingAuthorization.current())
        return g.signin_ctx

    def binding(self, ctx: SignInContext) -> str:
        """Names this browser's pending request and account."""
        pending = ctx.pending.id if ctx.pending is not None else "-"
        account = ctx.account.public_id if ctx.account is not None else "-"
        return bind(pending, account)

    def resume(self, ctx):
        return redirect(url_for("signin.resume"))

    def refused(self, ctx: SignInContext, step: str):
        if PendingAuthorization.had_expired():
            session.pop(SESSION_KEY, None)
            return expired_page()
        record("step_submission_refused",
               actor=ctx.account.identifier if ctx.account else None, step=step)
        return render_template("errors/stale_step.html"), 400


SIGN_IN = SignInPlan()
ORDER = SIGN_IN.order
_STEPS = SIGN_IN.steps  # read by the gate's tests
register_step = SIGN_IN.register
current_context = SIGN_IN.context


def first_needed_step(ctx: SignInContext | None = None) -> Step | None:
    return SIGN_IN.first_needed(ctx or current_context())


def needs_fresh_login(ctx: SignInContext) -> bool:
    """prompt=login / ForceAuthn, or max_age exceeded, for the pending request. A sign-in
    made after the request was received always satisfies it (so max_age=0 cannot loop)."""
    pending = ctx.pending
    if pending is None or ctx.auth_time >= pending.created:
        return False
    if pending.force_login:
        return True
    return pending.max_age is not None and pending.created - ctx.auth_time > pending.max_age
