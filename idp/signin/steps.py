"""The one step contract: every step page is decorated with `step_page(name)` and ends
with `step_done()`.

The gate lets step pages through (they are allowlisted), so the page itself refuses to
be used out of turn: reached too early (not signed in) or too late (already done), it
hands back to /continue, which sends the browser where the plan says. A submission bound
to another pending request or another account (a replayed or forged form, a tab left
open across a sign-out) is refused with a page that says so, and nothing is written.
Sign-up (J4) binds its own pages with the same `binding` (journeys/signup/state.py).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Callable

from flask import g, redirect, render_template, request, session, url_for

from ..audit import record
from .pending import SESSION_KEY, PendingAuthorization
from .plan import ORDER, SignInContext, _STEPS, current_context

BINDING_FIELD = "flow"


def bind(*parts: str) -> str:
    """The binding of a form to what it was shown for: a digest of `parts` (never the
    raw values, which name server-side state). One mechanism for every step and for
    the sign-up transaction."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def binding(ctx: SignInContext) -> str:
    """A value naming this browser's pending request and account."""
    pending = ctx.pending.id if ctx.pending is not None else "-"
    account = ctx.account.public_id if ctx.account is not None else "-"
    return bind(pending, account)


def binding_matches(expected: str) -> bool:
    """Whether this POST carries `expected` in its binding field (constant time)."""
    sent = request.form.get(BINDING_FIELD, "")
    return hmac.compare_digest(sent.encode(), expected.encode())


def refused_submission(ctx: SignInContext, step: str):
    """The answer to a step form that does not belong to this browser's current request."""
    if PendingAuthorization.had_expired():
        session.pop(SESSION_KEY, None)
        return render_template("errors/expired.html"), 400
    record("step_submission_refused", actor=ctx.account.identifier if ctx.account else None,
           step=step)
    return render_template("errors/stale_step.html"), 400


def _turn_of(name: str, ctx: SignInContext) -> bool:
    """`name` is the first step needed, skippable steps before it aside."""
    for other in ORDER:
        step = _STEPS.get(other)
        if step is None or not step.is_needed(ctx):
            continue
        if other == name:
            return True
        if not step.skippable:
            return False
    return False


def step_page(name: str, on_demand: Callable[[SignInContext], bool] | None = None):
    """Decorate a step's view: it receives the sign-in context and runs only in its
    turn; a POST to a bound step must carry the binding of this request. `on_demand`:
    when it holds, the page also serves outside its turn (the WAYF, opened from the
    sign-in page to change a remembered choice)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            ctx = current_context()
            if request.method == "POST" and _STEPS[name].bound \
                    and not binding_matches(binding(ctx)):
                return refused_submission(ctx, name)
            if not _turn_of(name, ctx) and not (on_demand and on_demand(ctx)):
                return redirect(url_for("signin.resume"))
            return view(ctx, *args, **kwargs)

        return wrapper

    return decorate


def step_done(response=None):
    """A step view's last call once its work is recorded: the plan decides what comes
    next (another step, or the answer to the relying party). `response` is the redirect
    to /continue to send when the caller must decorate it (a cookie)."""
    g.pop("signin_ctx", None)  # the step changed what the plan sees
    return response if response is not None else redirect(url_for("signin.resume"))
