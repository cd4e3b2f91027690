"""Back-channel logout through the outbox (issue 16, point 5): a logout queues one notice
per OIDC RP of the session and answers at once; `idp worker` POSTs the logout token,
retries with exponential backoff when the RP is down or answers 5xx, gives up on a 4xx;
the outcomes are counted in /metrics."""
from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from idp.db import db
from idp.models import OutboxMessage, utcnow
from idp.notify.delivery import deliver_due


class _RP(BaseHTTPRequestHandler):
    answers: list[int] = []  # status codes to give, in order (then 200)
    received: list[str] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        type(self).received.append(body)
        self.send_response(type(self).answers.pop(0) if type(self).answers else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(make):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RP)
    _RP.answers, _RP.received = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rp = make.oidc_client(redirect_uris=["https://ent.example/callback"],
                          backchannel_logout_uri=f"http://127.0.0.1:{server.server_port}/bc")
    yield rp, _RP
    server.shutdown()
    server.server_close()


def _sign_out(browser):
    page = browser.get("/")
    browser.page = page
    return browser.submit("/deconnexion-partout", {})


def _messages(app):
    with app.app_context():
        return db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == "logout")).all()


def _metric(client, outcome: str) -> float:
    body = client.get("/metrics").text
    match = re.search(r'^idp_backchannel_logouts_total\{outcome="%s"\} (\S+)$' % outcome,
                      body, re.M)
    return float(match.group(1)) if match else 0.0


def test_logout_queues_the_notice_and_the_worker_posts_it(app, client, flow, receiver, parent):
    rp, rp_server = receiver
    flow.code_for(rp, parent)
    sent_before = _metric(client, "sent")
    _sign_out(flow.browser)
    assert rp_server.received == []  # nothing left the IdP during the request
    [message] = _messages(app)
    notice = json.loads(message.text)
    assert message.recipient == rp.client_id and message.status == "pending"
    assert set(notice) == {"sub", "sid"} and notice["sub"]  # no token stored: signed at send
    with app.app_context():
        assert deliver_due().sent == 1
    assert len(rp_server.received) == 1 and rp_server.received[0].startswith("logout_token=")
    assert _messages(app)[0].status == "sent"
    assert _metric(client, "sent") == sent_before + 1


def test_an_rp_down_is_retried_with_backoff_then_reached(app, client, flow, receiver, parent):
    rp, rp_server = receiver
    rp_server.answers = [503, 502]
    flow.code_for(rp, parent)
    _sign_out(flow.browser)
    retried_before = _metric(client, "retried")
    now = utcnow()
    with app.app_context():
        assert deliver_due(now=now).retried == 1
        first_wait = _messages(app)[0].next_attempt_at
        assert deliver_due(now=now).sent == 0  # not due again yet
        later = now + timedelta(seconds=int(app.config["OUTBOX_RETRY_SECONDS"]) + 1)
        assert deliver_due(now=later).retried == 1
        second_wait = _messages(app)[0].next_attempt_at
        assert deliver_due(now=later + timedelta(hours=2)).sent == 1
    if first_wait.tzinfo is None:
        now, later = now.replace(tzinfo=None), later.replace(tzinfo=None)
    # Exponential: the second wait is twice the first.
    assert abs((second_wait - later) - 2 * (first_wait - now)) < timedelta(seconds=2)
    [message] = _messages(app)
    assert message.status == "sent" and message.attempts == 3
    assert len(rp_server.received) == 3
    assert _metric(client, "retried") == retried_before + 2


def test_an_rp_that_refuses_the_token_is_not_retried(app, client, flow, receiver, parent):
    rp, rp_server = receiver
    rp_server.answers = [400]
    flow.code_for(rp, parent)
    _sign_out(flow.browser)
    failed_before = _metric(client, "failed")
    with app.app_context():
        assert deliver_due().failed == 1
    [message] = _messages(app)
    assert message.status == "failed" and "HTTP 400" in message.last_error
    assert "logout_token" not in message.last_error
    assert _metric(client, "failed") == failed_before + 1


def test_an_unreachable_rp_does_not_slow_the_logout(app, flow, make, parent):
    from ..support.served import free_port

    rp = make.oidc_client(redirect_uris=["https://ent.example/callback"],
                          backchannel_logout_uri=f"http://127.0.0.1:{free_port()}/bc")
    flow.code_for(rp, parent)
    assert "Votre session est fermée" in _sign_out(flow.browser).text
    with app.app_context():
        report = deliver_due()
    assert report.retried == 1 and "ConnectionError" in report.errors[0]["error"]


def test_a_client_removed_meanwhile_fails_the_notice(app, flow, receiver, parent):
    rp, rp_server = receiver
    flow.code_for(rp, parent)
    _sign_out(flow.browser)
    from idp.models import OIDCClient

    with app.app_context():
        db.session.execute(OIDCClient.__table__.update().where(
            OIDCClient.client_id == rp.client_id).values(backchannel_logout_uri=None))
        db.session.commit()
        assert deliver_due().failed == 1
    assert rp_server.received == []
