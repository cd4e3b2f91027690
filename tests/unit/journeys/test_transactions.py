"""journeys/transactions.py: the store-backed transaction both signed-out journeys use
(sign-up, FranceConnect's first link), bound to one owner value of this browser's
session; a browser mid-journey across the deploy that merged the two owner keys
(`signup_owner`, `fc_owner`) keeps its transaction."""
from __future__ import annotations

import pytest
from flask import session

from idp.extensions import store
from idp.journeys.franceconnect.state import LinkTransaction, StopReason
from idp.journeys.signup.matching import MatchOutcome
from idp.journeys.signup.state import SignupTransaction
from idp.journeys.transactions import OWNER_KEY, browser_owner, session_owner


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context("/"):
        yield


def _signup(owner: str) -> SignupTransaction:
    return SignupTransaction(owner=owner, first_name="Léa", last_name="Martin",
                             phone="+33612345678", raw_phone="06 12 34 56 78", region="FR",
                             outcome=MatchOutcome.none)


def test_one_owner_value_binds_both_journeys():
    owner = browser_owner()
    assert browser_owner() == owner and session[OWNER_KEY] == owner
    signup, link = _signup(owner).save(), LinkTransaction(owner=owner, identity={}).save()
    assert SignupTransaction.current().id == signup.id
    assert LinkTransaction.current().id == link.id
    session[OWNER_KEY] = "another browser"
    assert SignupTransaction.current() is None and LinkTransaction.current() is None
    assert SignupTransaction.had_expired()


@pytest.mark.parametrize("old_key", ["signup_owner", "fc_owner"])
def test_a_transaction_begun_before_the_keys_merged_goes_on(old_key):
    session[old_key] = "before"
    tx = _signup("before").save()
    assert SignupTransaction.current().id == tx.id
    assert session_owner() == "before"  # FranceConnect's callback checks its flow with it
    assert browser_owner() == "before"  # adopted: what is begun now is bound the same


def test_stop_types_the_reason_and_saves():
    tx = LinkTransaction(owner=browser_owner(), identity={}).save()
    tx.stop("birth_dates")
    back = LinkTransaction.current()
    assert back.step == "stopped" and back.stop_reason is StopReason.birth_dates


def test_fields_it_does_not_know_are_left_out_and_forget_drops_it():
    tx = LinkTransaction(owner=browser_owner(), identity={}).save()
    store().set(tx.key, {**store().get(tx.key), "added_later": 1}, 60)
    assert LinkTransaction.current().id == tx.id
    tx.forget()
    assert LinkTransaction.current() is None and not LinkTransaction.had_expired()
