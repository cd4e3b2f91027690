"""Operator endpoints (issue 16, points 1 and 2): /healthz, /readyz and /metrics are
answered before sessions, the gate and CSRF; /readyz names what is not ready (the store,
the database, a schema behind the migrations) within its bounded timeout; the counters
move with sign-ins, tokens and the outbox."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import text

from idp.db import db, make_engine
from idp.ops import health

from ..support.browser import Browser


def _value(body: str, name: str, **labels) -> float:
    """A sample's value in the Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    match = re.search(r"^" + pattern + r"$", body, re.M)
    return float(match.group(1)) if match else 0.0


def test_healthz_answers_without_session_or_store(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.text == "ok\n"
    assert "Set-Cookie" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"


def test_readyz_when_everything_answers(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.text == "ready\n"


def test_operator_endpoints_refuse_a_post(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/metrics").status_code == 405


def test_requests_carry_a_request_id(client):
    answer = client.get("/connexion", headers={"X-Request-Id": "from-a-client"})
    rid = answer.headers["X-Request-Id"]
    # No trusted proxy (IDP_TRUSTED_PROXIES=0): a client's id is not taken.
    assert rid != "from-a-client" and re.fullmatch(r"[0-9a-f]{32}", rid)


def test_metrics_count_sign_ins_by_outcome_and_tokens_by_grant(client, browser, make,
                                                              flow, rp, parent):
    before = client.get("/metrics").text
    account = make.account()
    browser.sign_in(account, password="not the password")
    browser.sign_in(account)
    tokens = flow.tokens_for(rp, parent)
    refreshed = client.post("/oidc/token", auth=(rp.client_id, rp.client_secret), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    after = client.get("/metrics")
    assert after.status_code == 200
    assert after.mimetype == "text/plain"
    body = after.text
    for outcome in ("failed", "ok"):
        assert _value(body, "idp_signins_total", outcome=outcome) - \
            _value(before, "idp_signins_total", outcome=outcome) >= 1
    for grant in ("authorization_code", "refresh_token"):
        assert _value(body, "idp_tokens_issued_total", grant=grant) - \
            _value(before, "idp_tokens_issued_total", grant=grant) == 1
    assert _value(body, "idp_request_duration_seconds_count", endpoint="oidc.token") >= 2


def test_metrics_show_the_outbox_backlog_and_its_oldest_message(app, client):
    from datetime import timedelta

    from idp.models import OutboxMessage, utcnow

    with app.app_context():
        db.session.add_all([
            OutboxMessage(channel="email", recipient="a@example.org", template="t", text="x",
                          created_at=utcnow() - timedelta(minutes=10)),
            OutboxMessage(channel="email", recipient="b@example.org", template="t", text="x"),
            OutboxMessage(channel="sms", recipient="+33600000000", template="t", text="x"),
            OutboxMessage(channel="sms", recipient="+33600000001", template="t", text="x",
                          status="sent")])
        db.session.commit()
    body = client.get("/metrics").text
    assert _value(body, "idp_outbox_backlog", channel="email") == 2
    assert _value(body, "idp_outbox_backlog", channel="sms") == 1
    assert 590 <= _value(body, "idp_outbox_oldest_undelivered_seconds") <= 900
    assert _value(body, "idp_outbox_collector_up") == 1


def test_throttled_sign_ins_are_counted(client, browser, make):
    account = make.account()
    before = _value(client.get("/metrics").text, "idp_throttled_total", what="signin")
    for _ in range(7):  # 5 failures start a delay (security/throttle.py)
        browser.sign_in(account, password="wrong")
    after = _value(client.get("/metrics").text, "idp_throttled_total", what="signin")
    assert after > before


# --- Readiness when something is out ------------------------------------------------------

@pytest.fixture
def redis_node(private_redis, node):
    return node(REDIS_URL=private_redis.url, PROPAGATE_EXCEPTIONS=False)


def test_readyz_names_the_store_when_redis_is_down(private_redis, redis_node):
    client = redis_node.test_client()
    assert client.get("/readyz").status_code == 200
    private_redis.stop()
    started = time.monotonic()
    answer = client.get("/readyz")
    took = time.monotonic() - started
    assert answer.status_code == 503
    assert answer.text.startswith("store: ") and "database" not in answer.text
    assert took < health.READY_TIMEOUT_SECONDS + 1
    assert client.get("/healthz").status_code == 200  # the process still answers
    assert client.get("/metrics").status_code == 200
    private_redis.start()
    assert client.get("/readyz").status_code == 200


def test_readyz_names_the_database_when_it_is_down(app, settings, tmp_path):
    """A database that does not answer: 503 naming it, within the bounded timeout."""
    saved = db.engine
    # A port where nothing listens (PostgreSQL), or a file in a missing directory (SQLite).
    if settings["DATABASE_URL"].startswith("postgresql"):
        from ..support.served import free_port

        db.engine = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    else:
        db.engine = make_engine(f"sqlite:///{tmp_path}/missing/dir/idp.sqlite3")
    try:
        started = time.monotonic()
        answer = app.test_client().get("/readyz")
        assert time.monotonic() - started < health.READY_TIMEOUT_SECONDS + 1
    finally:
        db.engine.dispose()
        db.engine = saved
    assert answer.status_code == 503
    assert answer.text.startswith("database: ")
    assert "store" not in answer.text


def test_readyz_says_when_the_schema_is_not_migrated(app, tmp_path):
    saved = db.engine
    db.engine = make_engine(f"sqlite:///{tmp_path}/empty.sqlite3")
    try:
        answer = app.test_client().get("/readyz")
    finally:
        db.engine.dispose()
        db.engine = saved
    assert answer.status_code == 503
    assert answer.text == "database: not migrated: run `idp db upgrade`\n"


def test_readyz_says_when_a_head_is_missing(app):
    with app.app_context(), db.engine.connect() as conn:
        assert health.schema_problem(conn) is None
        heads = sorted(health.expected_heads())
        # As if one migration had not been applied: the version table without one head.
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = :v"),
                     {"v": heads[0]})
        problem = health.schema_problem(conn)
        conn.rollback()
    assert problem.startswith("schema not upgraded (") and heads[0] in problem
    assert problem.endswith("run `idp db upgrade`")


def test_a_node_older_than_the_schema_stays_ready(app):
    """A newer release ran `idp db upgrade` (a revision this code does not know): the
    node still serves during the rolling upgrade (migrations only add)."""
    with app.app_context(), db.engine.connect() as conn:
        head = sorted(health.expected_heads())[0]
        conn.execute(text("UPDATE alembic_version SET version_num = 'future0001' "
                          "WHERE version_num = :v"), {"v": head})
        problem = health.schema_problem(conn)
        conn.rollback()
    assert problem is None
