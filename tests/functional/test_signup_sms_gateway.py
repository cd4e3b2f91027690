"""SMS through the generic HTTP gateway sender (idp/notify/sms_http.py) against a real
local HTTP server: the J4 journey end to end, retries, refusals, outages, body template."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from idp.db import db
from idp.models import OutboxMessage
from idp.notify import queue_sms
from idp.notify.sms_http import fill
from idp.notify.delivery import deliver_due

from ..support.signup import PHONE, Signup, make_family
from ..support.sms_gateway import TOKEN, gateway_settings


def queue(app, text="Bonjour \"Jeanne\",\nvotre code : 123456") -> int:
    with app.app_context():
        message = OutboxMessage(channel="sms", recipient=PHONE, template="t", locale="fr",
                                subject="", text=text)
        db.session.add(message)
        db.session.commit()
        return message.id


def row(app, message_id) -> OutboxMessage:
    with app.app_context():
        return db.session.get(OutboxMessage, message_id)


def deliver(app, later_minutes: float = 0):
    with app.app_context():
        return deliver_due(datetime.now(timezone.utc) + timedelta(minutes=later_minutes))


def test_the_whole_journey_over_the_gateway(app, browser, use_sms_gateway):
    make_family(app)
    signup = Signup(app, browser)
    signup.identity()
    assert deliver(app).sent == 1
    received = use_sms_gateway.wait_for(1)[0]
    assert received["to"] == PHONE and "code de sécurité" in received["text"]
    request = use_sms_gateway.requests[0]
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Idempotency-Key"].startswith("outbox-")
    assert received["ref"] == request["headers"]["Idempotency-Key"][len("outbox-"):]
    page = signup.code(use_sms_gateway.last_code(PHONE))
    assert page.request.path == "/inscription/eleves"
    signup.pupils(("yes", "20", "05", "2013"))
    assert signup.password().request.path == "/inscription/compte-active"


def test_a_failing_gateway_is_retried_until_it_accepts(app, use_sms_gateway):
    message_id = queue(app)
    use_sms_gateway.fail(503, times=2)
    report = deliver(app)
    assert (report.sent, report.retried) == (0, 1)
    assert row(app, message_id).last_error == "DeliveryError: gateway answered 503"
    assert deliver(app).sent == 0  # not due yet (backoff)
    assert deliver(app, 1).retried == 1
    assert deliver(app, 5).sent == 1
    message = row(app, message_id)
    assert message.status == "sent" and message.attempts == 3
    assert len(use_sms_gateway.messages) == 1
    assert use_sms_gateway.messages[0]["text"] == "Bonjour \"Jeanne\",\nvotre code : 123456"


def test_a_refused_message_is_not_retried(app, use_sms_gateway):
    message_id = queue(app)
    use_sms_gateway.fail(422)
    assert deliver(app).failed == 1
    assert row(app, message_id).status == "failed"
    assert deliver(app, 60).sent == 0


def test_wrong_credentials_are_retried_not_dropped(app, sms_gateway):
    message_id = queue(app)
    with gateway_settings(app, sms_gateway):
        app.config["SMS_GATEWAY_TOKEN"] = "wrong"
        assert deliver(app).retried == 1
        assert row(app, message_id).last_error.endswith("401")
        app.config["SMS_GATEWAY_TOKEN"] = TOKEN
        assert deliver(app, 1).sent == 1


def test_a_gateway_that_is_down_loses_nothing(app, sms_gateway):
    message_id = queue(app)
    with gateway_settings(app, sms_gateway):
        sms_gateway.stop()
        assert deliver(app).retried == 1
        assert "unreachable" in row(app, message_id).last_error
        assert row(app, message_id).status == "pending"


def test_without_a_url_the_message_waits(app):
    message_id = queue(app)
    saved = app.config["SMS_BACKEND"]
    app.config["SMS_BACKEND"] = "http"
    try:
        assert deliver(app).retried == 1
    finally:
        app.config["SMS_BACKEND"] = saved
    assert "SMS_GATEWAY_URL" in row(app, message_id).last_error


def test_the_body_template_is_filled_as_json(app, sms_gateway):
    body = '{"messages": [{"destination": "{to_digits}", "content": "{text}"}], "flash": false}'
    with gateway_settings(app, sms_gateway, body=body):
        queue(app, text='Code "42"\nligne 2 \\ fin')
        assert deliver(app).sent == 1
    received = sms_gateway.messages[0]
    assert received == {"messages": [{"destination": PHONE[1:],
                                      "content": 'Code "42"\nligne 2 \\ fin'}], "flash": False}
    assert fill({"a": ["{to}", 3, None]}, {"to": "+33"}) == {"a": ["+33", 3, None]}
    json.loads(sms_gateway.requests[0]["raw"])  # valid JSON on the wire


def test_the_outbox_backend_stays_the_default(app):
    assert app.config["SMS_BACKEND"] == "outbox"
    with app.test_request_context("/"):
        queue_sms(to=PHONE, template="security_code",
                  context={"code": "123456", "minutes": "10", "purpose_text": ""})
        db.session.commit()
    with app.app_context():
        assert deliver_due().sent == 1
        assert db.session.scalar(select(OutboxMessage.status)) == "sent"
