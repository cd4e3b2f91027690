"""A Redis failover under load, seen by families: the IdP (gunicorn, 2 workers) keeps its
sessions and codes in Redis behind a sentinel (tests/support/sentinel.py: a master, a
replica, Debian's redis-sentinel). Families signed in before keep browsing while the
master is failed over (SENTINEL FAILOVER) or killed, and others sign in meanwhile: every
answer is a page, none a 500 or a 503 (a new master is there within seconds), and no
session is lost, those opened during the failover included."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from tests.support.served import HttpBrowser, serve_idp
from tests.support.sentinel import sentinel_set  # noqa: F401 - the fixture

pytestmark = pytest.mark.interop
BROWSING, SIGNING_IN = 4, 4


def signed_in(browser: HttpBrowser, url: str, identifier: str) -> bool:
    page = browser.http.get(url + "/compte", allow_redirects=False, timeout=30)
    return page.status_code == 200 and identifier in page.text


@pytest.mark.parametrize("how", ["failover", "kill"])
def test_a_failover_under_load_loses_no_session_and_answers_no_error(
        settings, make, sentinel_set, tmp_path, how):
    families = [make.account() for _ in range(BROWSING + SIGNING_IN)]
    with serve_idp(settings, tmp_path, REDIS_URL=None, REDIS_SENTINELS=sentinel_set.sentinels,
                   REDIS_FAILOVER_SECONDS=15) as idp:
        browsers = []
        for family in families[:BROWSING]:
            browser = HttpBrowser()
            browser.sign_in(idp.url + "/connexion", family.identifier, family.password)
            assert signed_in(browser, idp.url, family.identifier), idp.log_tail()
            browsers.append((browser, family))
        statuses, later, stop = Counter(), [], threading.Event()

        def browse(browser: HttpBrowser):
            while not stop.is_set():
                page = browser.http.get(idp.url + "/compte", allow_redirects=False, timeout=30)
                statuses[page.status_code] += 1

        def sign_in_meanwhile():
            for family in families[BROWSING:]:
                browser = HttpBrowser()
                browser.sign_in(idp.url + "/connexion", family.identifier, family.password)
                statuses[browser.page.status_code if browser.page is not None else 0] += 1
                later.append((browser, family))
                time.sleep(0.3)

        threads = [threading.Thread(target=browse, args=(b,)) for b, _ in browsers]
        threads.append(threading.Thread(target=sign_in_meanwhile))
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        before = sentinel_set.master()
        after = sentinel_set.failover() if how == "failover" else sentinel_set.kill_master()
        time.sleep(1.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert after != before
        assert set(statuses) == {200} and statuses[200] > 50, (statuses, idp.log_tail())
        assert len(later) == SIGNING_IN
        for browser, family in browsers + later:
            assert signed_in(browser, idp.url, family.identifier), family.identifier
        assert "unexpected error" not in idp.log_tail(50000)
