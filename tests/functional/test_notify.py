"""Outbox, worker and SMTP for real (aiosmtpd); link tokens; the dev outbox page."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select

from idp import create_app
from idp.config import PROJECT_ROOT
from idp.db import db
from idp.models import OutboxMessage
from idp.notify import external_url, queue_email, queue_sms, register_sender
from idp.notify.delivery import deliver_due
from idp.security.onetime import LinkTokenError, consume_link_token, issue_link_token

from ..support.served import settings_env
from ..support.smtp import smtp_settings

CONTEXT = {"first_name": "Marie", "identifier": "m.durand",
           "link": "http://localhost/activation/abc", "deadline": "23/02/2027"}


def queue(app, to="marie@example.org") -> int:
    with app.app_context():
        message = queue_email(to=to, template="activation", context=CONTEXT)
        db.session.commit()
        return message.id


def message(app, message_id) -> OutboxMessage:
    with app.app_context():
        return db.session.get(OutboxMessage, message_id)


def test_queue_renders_french_text_and_html(app):
    row = message(app, queue(app))
    assert row.status == "pending" and row.channel == "email"
    assert row.subject == "Message des services en ligne - Activation de votre compte"
    assert "Bonjour Marie," in row.text and "http://localhost/activation/abc" in row.text
    assert '<a href="http://localhost/activation/abc">' in row.html


def test_a_rolled_back_change_sends_nothing(app):
    with app.app_context():
        queue_email(to="x@example.org", template="activation", context=CONTEXT)
        db.session.rollback()
        assert db.session.scalars(select(OutboxMessage)).all() == []


def test_links_come_from_base_url_not_the_host_header(app):
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert external_url("activation.confirm", token="t") == "http://localhost/activation/t"
    with app.app_context():
        assert external_url("login.form") == "http://localhost/connexion"


def test_worker_delivers_over_smtp_with_text_and_html(app, use_smtp):
    message_id = queue(app)
    with app.app_context():
        report = deliver_due()
    assert report.sent == 1
    mail = use_smtp.wait_for(1)[0]
    assert mail["To"] == "marie@example.org" and "Connexion Scolarité" in mail["From"]
    assert "Bonjour Marie," in use_smtp.text_of(mail)
    assert "Activer mon compte" in use_smtp.html_of(mail)
    row = message(app, message_id)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_a_mail_server_that_is_down_loses_nothing(app, smtp_server):
    message_id = queue(app)
    smtp_server.stop()
    with smtp_settings(app, smtp_server), app.app_context():
        report = deliver_due()
    assert (report.sent, report.retried) == (0, 1)
    row = message(app, message_id)
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    later = datetime.now(timezone.utc) + timedelta(minutes=2)
    with smtp_settings(app, smtp_server), app.app_context():
        assert deliver_due().sent == 0  # not due yet: nothing tried
    smtp_server.start()
    with smtp_settings(app, smtp_server), app.app_context():
        assert deliver_due(now=later).sent == 1
    assert len(smtp_server.wait_for(1)) == 1 and message(app, message_id).status == "sent"


def test_refused_recipient_fails_at_once_and_retries_stop(app, use_smtp):
    use_smtp.refuse("550 5.1.1 No such user")
    refused = queue(app, "nobody@example.org")
    with app.app_context():
        assert deliver_due().failed == 1
    assert message(app, refused).status == "failed"
    use_smtp.refuse("451 4.3.0 Try later")
    deferred = queue(app)
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    try:
        with app.app_context():
            assert deliver_due().retried == 1
            assert deliver_due(now=datetime.now(timezone.utc) + timedelta(hours=2)).failed == 1
    finally:
        app.config["OUTBOX_MAX_ATTEMPTS"] = 8
    assert message(app, deferred).status == "failed"


def test_dev_outbox_prints_and_keeps_messages(app, capsys):
    message_id = queue(app)
    with app.app_context():
        assert deliver_due().sent == 1
    out = capsys.readouterr().err  # stderr: --json output stays clean
    assert "email to marie@example.org (activation)" in out and "Bonjour Marie," in out
    assert message(app, message_id).status == "sent"


def test_dev_outbox_page_only_when_turned_on(app, settings, client):
    queue(app)
    assert client.get("/dev/outbox").status_code == 404
    dev = create_app({**settings, "DEV_OUTBOX": True}).test_client()
    page = dev.get("/dev/outbox")
    assert page.status_code == 200
    assert '<a href="http://localhost/activation/abc">' in page.text


def test_sms_uses_the_same_outbox_and_a_registered_sender(app):
    sent = []

    class Recorder:
        def __init__(self, settings):
            pass

        def send(self, message):
            sent.append((message.recipient, message.text))

        def close(self):
            pass

    register_sender("sms", "recorder", Recorder)
    original = app.jinja_loader
    app.jinja_env.loader = ChoiceLoader([DictLoader({"sms/code.txt": "Code : {{ code }}"}),
                                         app.jinja_env.loader])
    saved_backend = app.config.get("SMS_BACKEND")
    app.config["SMS_BACKEND"] = "recorder"
    try:
        with app.app_context():
            queue_sms(to="+33612345678", template="code", context={"code": "123456"})
            db.session.commit()
            assert deliver_due().sent == 1
    finally:
        app.config["SMS_BACKEND"] = saved_backend  # the default ("outbox") since issue 5
        app.jinja_env.loader = original
    assert sent == [("+33612345678", "Code : 123456")]


def _worker_once(settings, metrics_dir) -> dict:
    """`idp worker --once --json` in a process of its own, as cron runs it (in this one,
    it would switch the test process's metrics to files)."""
    done = subprocess.run([sys.executable, "-c", "from idp.cli import main; main()",
                           "worker", "--once", "--json"], cwd=PROJECT_ROOT,
                          env=settings_env(settings, METRICS_DIR=str(metrics_dir)),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)  # the dev outbox prints on stderr


def test_worker_once_from_the_cli_counts_into_metrics(app, client, settings, tmp_path,
                                                      monkeypatch):
    """A one-shot run's deliveries reach /metrics through METRICS_DIR, where `idp
    serve`'s workers write theirs; the next run counts on from them, in the same files."""
    directory = tmp_path / "metrics"
    queue(app)
    queue(app, to="paul@example.org")
    assert _worker_once(settings, directory)["sent"] == 2
    queue(app, to="lea@example.org")
    assert _worker_once(settings, directory)["sent"] == 1
    # /metrics as under `idp serve`: the files of every process in the directory added up.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    lines = client.get("/metrics").text.splitlines()
    assert 'idp_outbox_deliveries_total{channel="email",outcome="sent"} 3.0' in lines
    files = [path.name for path in directory.glob("*.db")]  # one slot's, not a set per run
    assert files and all(name.endswith("_once-0.db") for name in files), files


def test_link_tokens_are_single_use_bound_and_revocable(app, make):
    parent = make.account()
    with app.app_context():
        first = issue_link_token(parent.id, "reset", timedelta(hours=1))
        second = issue_link_token(parent.id, "reset", timedelta(hours=1), {"k": 1})
        assert len(second) >= 40
        with pytest.raises(LinkTokenError) as revoked:
            consume_link_token(first, "reset")
        assert revoked.value.reason == "used" and revoked.value.account_id == parent.id
        with pytest.raises(LinkTokenError) as wrong_purpose:
            consume_link_token(second, "activation")
        assert wrong_purpose.value.reason == "unknown"
        row = consume_link_token(second, "reset")
        assert row.account_id == parent.id and row.payload == {"k": 1}
        with pytest.raises(LinkTokenError) as reused:
            consume_link_token(second, "reset")
        assert reused.value.reason == "used"
        expired = issue_link_token(parent.id, "email", timedelta(seconds=-1))
        with pytest.raises(LinkTokenError) as late:
            consume_link_token(expired, "email")
        assert late.value.reason == "expired"
        with pytest.raises(LinkTokenError) as unknown:
            consume_link_token("x" * 43, "reset")
        assert unknown.value.reason == "unknown"
        from idp.models import OneTimeToken

        hashes = db.session.scalars(select(OneTimeToken.token_hash)).all()
        assert second not in hashes and all(len(h) == 64 for h in hashes)
