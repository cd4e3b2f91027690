"""The engine's step machine (signin/plan.py) and its one binding (signin/binding.py), on
their own: plain steps over a plain context, no database, no store."""
from __future__ import annotations

import time

import pytest
from flask import Flask, session

from idp.signin.binding import BINDING_FIELD, bind, binding_matches
from idp.signin.pending import PendingAuthorization
from idp.signin.plan import Plan, SignInContext, Step, needs_fresh_login


class _Plan(Plan):
    order = ("choose", "prove", "agree", "share")


def _plan(needed: set[str], skippable: frozenset = frozenset()) -> _Plan:
    plan = _Plan()
    for name in _Plan.order:
        plan.register(Step(name, f"x.{name}", lambda ctx, name=name: name in ctx,
                           skippable=name in skippable))
    return plan


def test_a_step_outside_the_plans_order_is_refused():
    with pytest.raises(ValueError, match="unknown step"):
        _Plan().register(Step("elsewhere", "x.elsewhere", lambda ctx: True))


def test_the_first_needed_step_follows_the_order_not_the_registration():
    plan = _Plan()
    for name in reversed(_Plan.order):
        plan.register(Step(name, f"x.{name}", lambda ctx, name=name: name in ctx))
    assert plan.first_needed({"share", "prove"}).name == "prove"
    assert plan.first_needed({"share"}).name == "share"
    assert plan.first_needed(set()) is None  # nothing left: the adapter answers


def test_is_needed_is_asked_again_each_time():
    """A step done elsewhere (another tab, another process) is skipped at the next look."""
    plan, ctx = _plan(set()), {"prove", "agree"}
    assert plan.first_needed(ctx).name == "prove"
    ctx.discard("prove")
    assert plan.first_needed(ctx).name == "agree"


def test_only_the_first_needed_step_has_its_turn_skippable_ones_aside():
    plan = _plan(set(), skippable=frozenset({"choose"}))
    ctx = {"choose", "prove", "share"}
    assert plan.is_turn_of("choose", ctx)
    assert plan.is_turn_of("prove", ctx)       # "choose" may be skipped
    assert not plan.is_turn_of("share", ctx)   # "prove" may not
    assert not plan.is_turn_of("agree", ctx)   # not needed at all


def test_a_binding_names_its_parts_without_showing_them():
    digest = bind("pending-id", "account-id")
    assert digest == bind("pending-id", "account-id")
    assert digest != bind("pending-id", "another-account")
    assert digest != bind("another-request", "account-id")
    assert "pending-id" not in digest and len(digest) == 32


@pytest.fixture
def bare_app():
    app = Flask(__name__)  # not the IdP: no database, no store
    app.secret_key = "unit"
    return app


@pytest.mark.parametrize("sent, matches", [("same", True), ("other", False), (None, False)])
def test_a_form_matches_only_the_binding_it_was_shown_for(bare_app, sent, matches):
    expected = bind("same")
    form = {BINDING_FIELD: bind(sent)} if sent else {}
    with bare_app.test_request_context("/step", method="POST", data=form):
        assert binding_matches(expected) is matches


def _pending(**fields) -> PendingAuthorization:
    return PendingAuthorization(protocol="oidc", client_id="ent", client_name="ENT",
                                params={}, **fields)


@pytest.mark.parametrize("fields, signed_in_ago, fresh_login", [
    ({}, 3600, False),                         # single sign-on as usual
    ({"force_login": True}, 60, True),         # prompt=login / ForceAuthn
    ({"max_age": 300}, 60, False),             # signed in within max_age
    ({"max_age": 300}, 3600, True),            # too long ago
    ({"max_age": 0}, 1, True),
])
def test_a_fresh_sign_in_is_needed_for_prompt_login_and_max_age(bare_app, fields, signed_in_ago,
                                                                fresh_login):
    pending = _pending(**fields)
    with bare_app.test_request_context("/"):
        session["auth_time"] = pending.created - signed_in_ago
        assert needs_fresh_login(SignInContext(object(), pending)) is fresh_login
        # A sign-in made after the request was received satisfies it (max_age=0 cannot loop).
        session["auth_time"] = time.time() + 1
        assert needs_fresh_login(SignInContext(object(), pending)) is False


def test_no_pending_request_needs_no_fresh_sign_in(bare_app):
    with bare_app.test_request_context("/"):
        assert needs_fresh_login(SignInContext(object(), None)) is False
