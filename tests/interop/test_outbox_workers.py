"""Several `idp worker` processes at once (issue 16, point 5): on PostgreSQL they claim
outbox rows `FOR UPDATE SKIP LOCKED`, so a burst of back-channel logout notices is shared
between them and every notice reaches the RP exactly once. Runs on SQLite too (one writer
at a time: the claim is one statement under its write lock)."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select

from idp.config import PROJECT_ROOT
from idp.db import db
from idp.models import OutboxMessage
from tests.support.served import settings_env

WORKERS = 4
NOTICES = 120


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def rp_endpoint():
    received: list[str] = []
    times: list[float] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            time.sleep(0.03)  # an RP taking 30 ms: the burst outlasts the workers' start-up
            with lock:
                received.append(_claims(parse_qs(body)["logout_token"][0])["sub"])
                times.append(time.monotonic())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bc", received, times
    server.shutdown()
    server.server_close()


def test_several_workers_share_a_burst_and_send_each_notice_once(app, settings, make,
                                                                 rp_endpoint, tmp_path):
    url, received, times = rp_endpoint
    rp = make.oidc_client(redirect_uris=["https://ent.example/cb"], backchannel_logout_uri=url)
    with app.app_context():
        db.session.add_all([OutboxMessage(channel="logout", recipient=rp.client_id,
                                          template="backchannel_logout",
                                          text=json.dumps({"sub": f"sub-{i}", "sid": None}))
                            for i in range(NOTICES)])
        db.session.commit()
    env = settings_env(settings, METRICS_DIR=str(tmp_path / "metrics"))
    cmd = [sys.executable, "-c", "from idp.cli import main; main()", "worker", "--once",
           "--json", "--channel", "logout"]
    started = time.monotonic()
    workers = [subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(WORKERS)]
    reports, ended = [], []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        ended.append(time.monotonic() - started)
        assert worker.returncode == 0, err[-2000:]
        reports.append(json.loads(out))
    assert sum(r["sent"] for r in reports) == NOTICES
    assert all(r["retried"] == 0 and r["failed"] == 0 for r in reports), reports
    assert sorted(received) == sorted(f"sub-{i}" for i in range(NOTICES))  # each once
    if settings["DATABASE_URL"].startswith("postgresql"):
        # The burst was shared: more than one worker sent notices.
        assert sum(1 for r in reports if r["sent"]) >= 2, (
            reports, times[0] - started, times[-1] - started, ended)
    with app.app_context():
        pending = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.status != "sent"))
    assert pending == 0
