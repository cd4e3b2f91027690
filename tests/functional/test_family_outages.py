"""An outage during an issue 20 action: Redis (sessions, throttle) down when a
representative gives a temporary password: our French 503 page, nothing half-done (the
password is unchanged); everything works again once Redis is back, without restarting the
IdP. Redis is this test's own (tests/support/servers.py: private_redis)."""
from __future__ import annotations

import pytest

from ..support.accounts import account_row
from ..support.browser import Browser


@pytest.fixture
def redis_node(settings, private_redis, node):
    return node(REDIS_URL=private_redis.url, PROPAGATE_EXCEPTIONS=False)


def test_the_store_down_during_a_temporary_password(app, private_redis, redis_node, make):
    family = make.family(with_pupils=1)
    pupil = family.pupils[0]
    browser = Browser(redis_node.test_client())
    browser.sign_in(family.guardian.identifier, family.guardian.password)
    listing = browser.get("/compte/enfants")
    assert listing.status_code == 200
    before = account_row(app, pupil.id)
    private_redis.stop()
    page = browser.submit(f"/compte/enfants/{pupil.id}/mot-de-passe", {"confirm": "1"},
                          page_html=listing.text)
    assert page.status_code == 503
    assert "Le service est momentanément indisponible." in page.text
    after = account_row(app, pupil.id)
    assert after.guardian_reset_at is None and after.password_hash == before.password_hash
    private_redis.start()  # empty: the session is gone, the family signs in again
    browser = Browser(redis_node.test_client())
    browser.sign_in(family.guardian.identifier, family.guardian.password)
    assert browser.get("/compte/enfants").status_code == 200
