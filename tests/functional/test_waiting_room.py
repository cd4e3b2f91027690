"""Issue 18: the sign-in waiting room (security/admission.py, journeys/waiting/).

A slot is taken the way another family's sign-in takes it (`Admission.acquire`), so the
next sign-in meets a full process: the French 503 page with Retry-After and a meta
refresh, the sign-in held (password sealed in the store, key in an HttpOnly cookie), and
the page signing in by itself once the slot is free. Bad input: a client hammering
without waiting, a form re-posted from the waiting page, a pending request expiring
while its family waits, the store down during the storm."""
from __future__ import annotations

import html
import json
import re

import pytest

from ..support.browser import Browser
from ..support.sql import listen, unlisten

WAITING = "/connexion/attente"


@pytest.fixture
def room(app, config):
    """One slot per process, a short wait; returns the app's Admission."""
    admission = app.extensions["idp"]["admission"]
    saved = (admission.concurrency, admission.wait_seconds, admission.waiters,
             admission._slots, admission.enabled, admission.grace_seconds,
             admission.max_wait_seconds, admission._cluster_rate)
    admission.concurrency, admission.wait_seconds, admission.waiters = 1, 0.2, 1
    admission.enabled = True
    import threading
    admission._slots = threading.BoundedSemaphore(1)
    yield admission
    (admission.concurrency, admission.wait_seconds, admission.waiters,
     admission._slots, admission.enabled, admission.grace_seconds,
     admission.max_wait_seconds, admission._cluster_rate) = saved


@pytest.fixture
def busy(app, room):
    """Another family's verification holds the only slot until the test calls free()."""
    with app.test_request_context():
        release = room.acquire("someone-else", "192.0.2.200")

    class Busy:
        held = True

        def free(self):
            if self.held:
                release()
                self.held = False

    holder = Busy()
    yield holder
    holder.free()


def browser_at(app, address: str) -> Browser:
    return Browser(app.test_client(use_cookies=True)) if address is None else \
        Browser(_client_at(app, address))


def _client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def post_sign_in(browser: Browser, identifier: str, password: str):
    page = browser.get("/connexion")
    if page.request.path == "/choisir-profil":
        browser.submit("/choisir-profil", {"profile": "parent", "academy": "reims"})
    return browser.submit("/connexion", {"identifier": identifier, "password": password},
                          follow=False)


def store_entries(app) -> str:
    """Everything the store holds, as text (both backends)."""
    store = app.extensions["idp"]["store"]
    if hasattr(store, "_redis"):
        r = store._redis
        return " ".join(f"{k!r}={r.dump(k)!r}" for k in r.scan_iter(match=store._prefix + "*"))
    rows = store._conn().execute("SELECT key, value FROM entries").fetchall()
    return json.dumps(rows)


def test_a_full_process_answers_the_french_waiting_page(app, browser, make, busy):
    parent = make.account()
    answer = post_sign_in(browser, parent.identifier, parent.password)
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) >= 1
    seconds = answer.headers["Retry-After"]
    assert f'<meta http-equiv="refresh" content="{seconds};url={WAITING}">' in answer.text
    assert "Beaucoup de familles se connectent en ce moment : nous gardons votre place, " \
           f"la page se recharge dans {seconds} seconde" in answer.text
    assert parent.identifier in answer.text
    assert parent.password not in answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # The store holds the password sealed only; the key is in the cookie alone.
    entries = store_entries(app)
    assert parent.identifier in entries
    assert parent.password not in entries
    key = re.search(r"idp_attente=[^.;]+\.([^;]+)", cookie).group(1)
    assert key not in entries and key not in answer.text


def test_the_waiting_page_signs_in_by_itself_and_keeps_the_rp_request(
        app, browser, flow, rp, make, busy):
    parent = make.account()
    flow.authorize(rp)  # the RP's request, pending in the session
    browser.submit("/choisir-profil", {"profile": "parent", "academy": "reims"})
    answer = browser.submit("/connexion", {"identifier": parent.identifier,
                                           "password": parent.password}, follow=False)
    assert answer.status_code == 503
    assert browser.get(WAITING).status_code == 503  # still full: the page again
    busy.free()
    landed = browser.get(WAITING)  # what the meta refresh does
    assert landed.status_code == 302 and landed.location.startswith(rp.redirect_uri)
    assert "code=" in landed.location
    # The held sign-in is gone with its cookie.
    assert browser.client.get_cookie("idp_attente") is None
    assert parent.identifier not in store_entries(app)


def test_a_held_wrong_password_gets_the_form_with_the_identifier(app, browser, make, busy):
    parent = make.account()
    assert post_sign_in(browser, parent.identifier, "Wrong-Pass-2026!").status_code == 503
    busy.free()
    page = browser.get(WAITING)
    assert page.status_code == 400
    assert "Identifiant ou mot de passe incorrect." in page.text
    assert f'value="{parent.identifier}"' in page.text
    assert "Wrong-Pass-2026!" not in page.text


def test_pupils_are_told_tu(app, browser, make, busy):
    pupil = make.account()
    browser.get("/choisir-profil")
    browser.submit("/choisir-profil", {"profile": "pupil", "academy": "reims"})
    answer = browser.submit("/connexion", {"identifier": pupil.identifier,
                                           "password": pupil.password}, follow=False)
    assert answer.status_code == 503
    assert "nous gardons ta place" in answer.text and "votre" not in answer.text


def test_a_form_re_posted_from_the_waiting_page_keeps_its_place(app, make, busy):
    first, second = make.account(), make.account()
    a, b = browser_at(app, "198.51.100.1"), browser_at(app, "198.51.100.2")
    answer_a = post_sign_in(a, first.identifier, first.password)
    assert answer_a.status_code == 503
    assert "Vous êtes la prochaine personne." in answer_a.text
    answer_b = post_sign_in(b, second.identifier, second.password)
    assert "1 personne attend avant vous." in answer_b.text
    # F5 on the 503 page: the browser posts the same form again, several times.
    for _ in range(3):
        again = a.client.post("/connexion", data={
            "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                                    a.client.get("/connexion").text).group(1),
            "identifier": first.identifier, "password": first.password})
        assert again.status_code == 503
        assert "Vous êtes la prochaine personne." in again.text
    assert app.extensions["idp"]["admission"].queue_length() == 2  # no second ticket


def test_hammering_without_waiting_does_not_move_ahead(app, make, busy, room):
    """Twelve families wait; a client that retries without pause, from the back of the
    queue, is not let in ahead of them when the slot frees up."""
    families = [make.account() for _ in range(12)]
    browsers = []
    for i, family in enumerate(families):
        browser = browser_at(app, f"203.0.113.{i + 1}")
        assert post_sign_in(browser, family.identifier, family.password).status_code == 503
        browsers.append(browser)
    hammerer = make.account()
    h = browser_at(app, "192.0.2.66")
    assert post_sign_in(h, hammerer.identifier, hammerer.password).status_code == 503
    room.grace_seconds = 60  # the front is between two reloads all along
    busy.free()  # a slot is free: it belongs to the front of the queue
    for _ in range(15):
        assert h.client.get(WAITING).status_code == 503
    # The longest-waiting family comes back (its page reloads) and is let in.
    assert browsers[0].client.get(WAITING).status_code == 302


def test_one_address_holds_a_small_share_of_the_queue(app, make, busy):
    """New tickets from one address (a script without cookies) stop at the share; its
    requests still get the 503 page with Retry-After, never an error."""
    accounts = [make.account() for _ in range(8)]
    positions = []
    for account in accounts:
        browser = browser_at(app, "192.0.2.77")  # a new browser each time: new tickets
        answer = post_sign_in(browser, account.identifier, account.password)
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        positions.append("attend" in answer.text or "prochaine" in answer.text)
    assert positions.count(True) == 5  # SIGNIN_QUEUE_ADDRESS_MIN
    assert app.extensions["idp"]["admission"].queue_length() == 5


def test_an_ipv6_64_is_one_address_for_the_share(app, make, busy):
    """A client rotating through its IPv6 /64 holds the share of one address."""
    accounts = [make.account() for _ in range(8)]
    positions = []
    for n, account in enumerate(accounts):
        browser = browser_at(app, f"2001:db8:77:1::{n + 1}")
        answer = post_sign_in(browser, account.identifier, account.password)
        assert answer.status_code == 503
        positions.append("attend" in answer.text or "prochaine" in answer.text)
    assert positions.count(True) == 5  # SIGNIN_QUEUE_ADDRESS_MIN
    other = make.account()
    answer = post_sign_in(browser_at(app, "2001:db8:77:2::1"), other.identifier, other.password)
    assert "attend" in answer.text  # another /64: a place of its own
    assert app.extensions["idp"]["admission"].queue_length() == 6


def test_a_bounded_queue_turns_newcomers_away_with_a_later_retry(app, make, busy, room):
    """IDP_SIGNIN_QUEUE_MAX_SECONDS (the login quota): the queue holds the families let in
    within that wait (here 1 s at 2 a second: two); the next one gets no place, only a later
    retry (Retry-After 60-90 s), its sign-in held all the same; the queue's families keep
    their places and sign in first."""
    room.max_wait_seconds = 1.0
    room._cluster_rate = (2.0, float("inf"))  # the cluster lets in 2 a second (not re-read)
    accounts = [make.account() for _ in range(3)]
    browsers = [browser_at(app, f"192.0.2.{10 + i}") for i in range(3)]
    answers = [post_sign_in(b, a.identifier, a.password) for b, a in zip(browsers, accounts)]
    assert [answer.status_code for answer in answers] == [503, 503, 503]
    for kept in answers[:2]:
        assert "nous gardons votre place" in kept.text
    full = answers[2]
    full_text = html.unescape(full.text)
    assert "Beaucoup de familles se connectent en ce moment et la file d'attente est pleine " \
           ": la page essaiera de nouveau de vous connecter dans" in full_text
    assert "nous gardons votre place" not in full_text and "attend" not in full_text
    assert 60 <= int(full.headers["Retry-After"]) <= 90
    assert f'content="{full.headers["Retry-After"]};url={WAITING}"' in full.text
    assert "HttpOnly" in full.headers["Set-Cookie"]  # held: the retry signs in by itself
    assert room.queue_length() == 2
    assert "file d'attente est pleine" in html.unescape(browsers[2].get(WAITING).text)
    busy.free()
    for browser in browsers:
        assert browser.get(WAITING, follow=False).status_code == 302  # signed in
    assert room.queue_length() == 0


def test_a_pending_request_that_expired_while_waiting(app, browser, flow, rp, make, busy):
    parent = make.account()
    flow.authorize(rp)
    browser.submit("/choisir-profil", {"profile": "parent", "academy": "reims"})
    pending_id = None
    with browser.client.session_transaction() as sess:
        pending_id = sess.get("pending_id")
    assert pending_id
    assert browser.submit("/connexion", {"identifier": parent.identifier,
                                         "password": parent.password},
                          follow=False).status_code == 503
    app.extensions["idp"]["store"].delete("pending:" + pending_id)  # its TTL ran out
    busy.free()
    page = browser.get(WAITING)
    assert page.status_code in (200, 400), page.text[:300]
    assert "Votre demande a expiré" in page.text
    assert parent.identifier in browser.get("/").text  # signed in: no start over


def test_an_expired_hold_shows_the_form_with_the_identifier(app, browser, make, busy):
    parent = make.account()
    assert post_sign_in(browser, parent.identifier, parent.password).status_code == 503
    cookie = browser.client.get_cookie("idp_attente").value
    app.extensions["idp"]["store"].delete("signin-hold:" + cookie.split(".")[0])
    page = browser.get(WAITING)
    assert page.status_code == 200
    assert "attente a duré trop longtemps" in page.text, page.text[:1500]
    assert f'value="{parent.identifier}"' in page.text
    assert parent.password not in page.text


def test_a_forged_or_missing_cookie_just_shows_the_form(app, browser):
    browser.client.set_cookie("idp_attente", "x" * 20 + "." + "y" * 44, domain="localhost")
    page = browser.get(WAITING)
    assert page.status_code == 200 and "Je me connecte" in page.text


def test_without_admission_control_nothing_waits(app, browser, make, busy, room):
    room.enabled = False
    parent = make.account()
    answer = post_sign_in(browser, parent.identifier, parent.password)
    assert answer.status_code == 302


def test_the_store_down_during_the_storm_answers_503_never_an_unguarded_sign_in(
        settings, private_redis, node, make):
    """The queue lives in the store: without it a sign-in is neither queued nor let in
    unguarded, it gets the 503 page; a held sign-in's retry too. Back: it works."""
    idp = node(REDIS_URL=private_redis.url, PROPAGATE_EXCEPTIONS=False,
               SIGNIN_CONCURRENCY=1, SIGNIN_WAIT_SECONDS=0.1)
    parent = make.account()
    browser = Browser(idp.test_client())
    browser.get("/connexion")  # the WAYF and the form, store up
    browser.submit("/choisir-profil", {"profile": "parent", "academy": "reims"})
    page_html = browser.get("/connexion").text
    admission = idp.extensions["idp"]["admission"]
    with idp.test_request_context():
        release = admission.acquire("someone-else", "192.0.2.200")
    try:
        held = browser.submit("/connexion", {"identifier": parent.identifier,
                                             "password": parent.password}, follow=False,
                              page_html=page_html)
        assert held.status_code == 503 and "nous gardons votre place" in held.text
        private_redis.stop()
        for answer in (browser.client.post("/connexion", data={
                           "identifier": parent.identifier, "password": parent.password}),
                       browser.client.get(WAITING)):
            assert answer.status_code == 503, answer.text[:300]
            assert answer.headers["Retry-After"]
            assert "momentanément indisponible" in answer.text
    finally:
        release()
        private_redis.start()
    landed = browser.client.get("/connexion")
    assert landed.status_code in (200, 302)


def test_the_operators_home_shows_the_waiting_room(app, make, busy):
    from ..support.admin import console_sign_in, make_staff

    for i in range(3):
        family = make.account()
        assert post_sign_in(browser_at(app, f"198.51.100.{i + 10}"), family.identifier,
                            family.password).status_code == 503
    operator = Browser(app.test_client())
    console_sign_in(operator, make_staff(app, "ops.alice"))
    home = operator.get("/admin/")
    assert home.status_code == 200
    assert "Salle d&#39;attente des connexions" in home.text or \
        "Salle d'attente des connexions" in home.text
    assert "3 familles attendent une connexion en ce moment." in home.text
    assert re.search(r"<td>\d\d/\d\d \d\d:00</td><td>\d+</td><td>3</td>", home.text), \
        home.text[home.text.find("waiting-room"):][:1500]


def test_the_metrics_count_the_waiting_room(app, client, make, busy):
    family = make.account()
    assert post_sign_in(browser_at(app, "198.51.100.40"), family.identifier,
                        family.password).status_code == 503
    body = client.get("/metrics").text
    assert "idp_signin_queue_length 1.0" in body
    assert re.search(r'idp_signin_turned_away_total\{reason="wait_over"\} [1-9]', body), \
        [line for line in body.splitlines() if "signin" in line]
    assert "idp_signin_admitted_total" in body and "idp_signin_wait_seconds_bucket" in body


def test_the_automatic_reload_can_be_turned_off_and_the_wait_resumed(app, browser, make, busy):
    """WCAG 2.2.1 without JavaScript: a link leaves the meta refresh for a page without
    one; the hold is kept, and « Reprendre la connexion » replays it."""
    parent = make.account()
    answer = post_sign_in(browser, parent.identifier, parent.password)
    assert answer.status_code == 503
    assert f'href="{WAITING}?pause=1">Arrêter le rechargement automatique</a>' in answer.text
    paused = browser.get(WAITING + "?pause=1")
    assert paused.status_code == 200
    assert 'http-equiv="refresh"' not in paused.text
    assert "Le rechargement automatique est arrêté." in paused.text
    assert "Votre connexion reste en attente pendant 10 minutes au plus" in paused.text
    assert parent.identifier in paused.text
    assert f'href="{WAITING}">Reprendre la connexion</a>' in paused.text
    assert browser.client.get_cookie("idp_attente") is not None  # the hold is kept
    busy.free()
    landed = browser.get(WAITING, follow=False)  # « Reprendre la connexion »
    assert landed.status_code == 302
    assert browser.client.get_cookie("idp_attente") is None


def test_a_replayed_hold_that_waits_on_keeps_its_seal_and_cookie(app, browser, make, busy):
    """Each reload of a full node costs no new key, no new seal, no new cookie."""
    parent = make.account()
    assert post_sign_in(browser, parent.identifier, parent.password).status_code == 503
    cookie = browser.client.get_cookie("idp_attente").value
    before = store_entries(app)
    again = browser.get(WAITING)
    assert again.status_code == 503 and "Set-Cookie" not in again.headers
    assert browser.client.get_cookie("idp_attente").value == cookie
    sealed = re.findall(r"gAAAAA[\w-]+", before)
    assert sealed and all(seal in store_entries(app) for seal in sealed)


def test_a_reload_that_waits_on_looks_no_account_up(app, browser, make, busy):
    """The queue decides before the login view runs: a storm's reloads cost no query."""
    parent = make.account()
    assert post_sign_in(browser, parent.identifier, parent.password).status_code == 503
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        found = listen(seen)
    try:
        assert browser.get(WAITING).status_code == 503
    finally:
        unlisten(found, seen)
    assert not [s for s in statements if "accounts" in s], statements
    busy.free()
    assert browser.get(WAITING, follow=False).status_code == 302  # then it signs in
