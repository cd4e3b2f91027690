"""What every step page shares: it serves only while its step is the first one needed,
and each of its forms is bound to the request and the account it was shown for.

The gate lets step pages through (they are allowlisted), so the page itself refuses to
be used out of turn: reached too early (not signed in) or too late (already done), it
hands back to /continue, which sends the browser where the plan says. A submission bound
to another pending request or another account (a replayed or forged form, a tab left
open across a sign-out) is refused with a page that says so, and nothing is written.
"""
from __future__ import annotations

import functools
import hashlib
import hmac

from flask import redirect, render_template, request, session, url_for

from ..audit import record
from .pending import SESSION_KEY, PendingAuthorization
from .plan import SignInContext, current_context, first_needed_step

BINDING_FIELD = "flow"


def binding(ctx: SignInContext) -> str:
    """A value naming this browser's pending request and account (not the raw pending
    id, which names the request in the store)."""
    pending = ctx.pending.id if ctx.pending is not None else "-"
    account = ctx.account.public_id if ctx.account is not None else "-"
    return hashlib.sha256(f"{pending}|{account}".encode()).hexdigest()[:32]


def refused_submission(ctx: SignInContext, step: str):
    """The answer to a step form that does not belong to this browser's current request."""
    if PendingAuthorization.had_expired():
        session.pop(SESSION_KEY, None)
        return render_template("errors/expired.html"), 400
    record("step_submission_refused", actor=ctx.account.identifier if ctx.account else None,
           step=step)
    return render_template("errors/stale_step.html"), 400


def step_page(name: str):
    """Decorate a step's view: it receives the sign-in context and runs only when `name`
    is the first step needed; a POST must carry the binding of this request."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            ctx = current_context()
            if request.method == "POST":
                sent = request.form.get(BINDING_FIELD, "")
                if not hmac.compare_digest(sent.encode(), binding(ctx).encode()):
                    return refused_submission(ctx, name)
            step = first_needed_step(ctx)
            if step is None or step.name != name:
                return redirect(url_for("signin.resume"))
            return view(ctx, *args, **kwargs)

        return wrapper

    return decorate
