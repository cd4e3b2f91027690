"""The one step contract: every step page is decorated with `step_page(name)` and ends
with `step_done()`, whatever its plan (the sign-in plan, or the sign-up sub-plan).

The gate lets step pages through (they are allowlisted), so the page itself refuses to
be used out of turn: reached too early or too late, it hands back to where its plan is.
A bound step's form that does not carry the plan's current binding (replayed, forged,
another account's, after expiry, an older transaction) is refused with a page that says
so, and nothing is written.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from flask import g, redirect, request, url_for

from .binding import binding_matches
from .plan import SIGN_IN, Plan, SignInContext


def binding(ctx: SignInContext) -> str:
    """The sign-in plan's binding for this context (templates: `step_binding(flow)`)."""
    return SIGN_IN.binding(ctx)


def step_page(name: str, on_demand: Callable[[Any], bool] | None = None,
              plan: Plan = SIGN_IN):
    """Decorate a step's view: it receives its plan's context and runs only in its
    turn; a POST to a bound step must carry the plan's binding. `on_demand`: when it
    holds, the page also serves outside its turn (the WAYF, opened from the sign-in
    page to change a remembered choice; sign-up's pupils page, back from the next)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            ctx = plan.context()
            unavailable = plan.unavailable(ctx)
            if unavailable is not None:
                return unavailable
            if request.method == "POST" and plan.steps[name].bound \
                    and not binding_matches(plan.binding(ctx)):
                return plan.refused(ctx, name)
            if not plan.is_turn_of(name, ctx) and not (on_demand and on_demand(ctx)):
                return plan.resume(ctx)
            return view(ctx, *args, **kwargs)

        return wrapper

    return decorate


def step_done(response=None):
    """A sign-in step view's last call once its work is recorded: the plan decides what
    comes next (another step, or the answer to the relying party). `response`: the
    redirect to /continue when the caller must decorate it (a cookie)."""
    g.pop("signin_ctx", None)  # the step changed what the plan sees
    return response if response is not None else redirect(url_for("signin.resume"))
