"""A throttled sign-in's page says what `authenticate` found, read once: the scope and the
wait come with its outcome, so a delay that runs out between the check and the page
cannot turn a slowed address into "Trop d'essais pour cet identifiant" (nor a paused
identifier into a one-second wait).

The delay running out at the worst moment: `authenticate` writes its `login_throttled`
audit row right after reading the delays, so a hook on that INSERT deletes the delay's
key there (deleting the key stands for the seconds passing, as in test_throttle)."""
from __future__ import annotations

import re
from contextlib import contextmanager
from html import unescape

from idp.db import db
from idp.journeys.login import service
from idp.models import AuditEvent

from ..support.browser import browser_from
from ..support.sql import listen, unlisten

SLOWED = "Trop d'essais depuis cette connexion internet : la connexion est ralentie."
PAUSED = "Trop d'essais pour cet identifiant : la connexion est suspendue."


@contextmanager
def _delay_runs_out_after_the_check(app, key):
    """Deletes `key` from the store as `authenticate` records the throttled try; yields
    the keys it deleted (the test checks that the hook fired)."""
    store = app.extensions["idp"]["store"]
    deleted = []

    def expire(_conn, _cursor, statement, parameters, *_args):
        if "INSERT INTO audit_events" in statement and "login_throttled" in str(parameters):
            store.delete(key)
            deleted.append(key)

    with app.app_context():
        found = listen(expire)
    try:
        yield deleted
    finally:
        unlisten(found, expire)


def _scopes_audited(app) -> list:
    with app.app_context():
        return [e.details["scope"] for e in
                db.session.query(AuditEvent).filter_by(action="login_throttled")]


def test_a_slowed_address_is_named_even_when_its_delay_ends_before_the_page(app, make):
    parent = make.account()
    ip = "198.51.100.210"
    store = app.extensions["idp"]["store"]
    key = f"block:fail:ip:{ip}"
    store.set(key, 1, 7)
    with _delay_runs_out_after_the_check(app, key) as deleted:
        page = browser_from(app, ip).sign_in(parent.identifier, parent.password)
    assert deleted == [key] and store.get(key) is None
    text = unescape(page.text)
    assert page.status_code == 429
    assert SLOWED in text and PAUSED not in text
    wait = int(re.search(r"Réessayez dans (\d+) secondes?\.", text).group(1))
    assert 1 <= wait <= 7  # the wait authenticate found, not the expired one
    assert _scopes_audited(app) == ["ip"]


def test_a_paused_identifier_keeps_its_wait_when_the_delay_ends_before_the_page(app, make):
    parent = make.account()
    ip = "198.51.100.211"
    store = app.extensions["idp"]["store"]
    key = f"block:fail:acct:{parent.identifier}"
    store.set(key, 1, 600)
    with _delay_runs_out_after_the_check(app, key) as deleted:
        page = browser_from(app, ip).sign_in(parent.identifier, parent.password)
    assert deleted == [key] and store.get(key) is None
    text = unescape(page.text)
    assert page.status_code == 429
    assert PAUSED in text and SLOWED not in text
    assert "Réessayez dans 10 minutes, ou choisissez « Mot de passe oublié ? »" in text
    assert _scopes_audited(app) == ["account"]


def test_authenticate_returns_the_pause_it_found(app, make):
    parent = make.account()
    store = app.extensions["idp"]["store"]
    ip = "198.51.100.212"

    def attempt(identifier, password):
        with app.test_request_context("/connexion", method="POST",
                                      environ_base={"REMOTE_ADDR": ip}):
            return service.authenticate(identifier, password)

    free = attempt(parent.identifier, "Wrong-Pass-2026")
    assert (free.outcome, free.account, free.pause) == (service.LoginOutcome.failed, None,
                                                         None)
    store.set(f"block:fail:ip:{ip}", 1, 7)
    slowed = attempt(parent.identifier, parent.password)
    assert (slowed.outcome, slowed.account) == (service.LoginOutcome.throttled, None)
    assert slowed.pause.scope == "ip" and 1 <= slowed.pause.seconds <= 7
    for identifier in (parent.identifier, "x.personne9"):  # the same for a stranger
        store.set(f"block:fail:acct:{identifier}", 1, 600)
        paused = attempt(identifier, parent.password)
        assert paused.outcome is service.LoginOutcome.throttled and paused.account is None
        assert paused.pause.scope == "account" and 590 <= paused.pause.seconds <= 600
    store.delete(f"block:fail:ip:{ip}", f"block:fail:acct:{parent.identifier}")
    signed_in = attempt(parent.identifier, parent.password)
    assert signed_in.outcome is service.LoginOutcome.ok and signed_in.pause is None
    assert signed_in.account.identifier == parent.identifier
