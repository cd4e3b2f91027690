"""Console benchmark (issue 8) against PostgreSQL, on a database of its own.

Loads 20 schools of 1,000 pupils (about 50,000 accounts, through `import_roster`) and
1,000,000 audit events (COPY), signs an operator in through the console's forms, then
times the pages staff use most and counts the SQL statements each one runs (an N+1
shows as a count that grows with the rows shown):

- a school's page, an account search ("ber": hundreds of hits, 50 shown), an account page;
- the audit trail's first page, a filtered page, a page deep in the trail (keyset), and
  the CSV export of 100,000 events.

    .venv/bin/python bench/admin_bench.py [--pg postgresql://postgres@127.0.0.1:5432]
        [--schools 20] [--events 1000000] [--redis redis://127.0.0.1:6379/14]

Creates (and drops first) the database `idp_bench_admin`; prints the figures.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from idp import create_app  # noqa: E402
from idp.db import db  # noqa: E402
from idp.migrations import upgrade  # noqa: E402
from idp.secret_settings import new_values as new_secret_values  # noqa: E402

from roster_bench import school_csv  # noqa: E402

DB_NAME = "idp_bench_admin"
ACTIONS = ["login", "login_failed", "oidc_code_issued", "saml_response_issued", "logout",
           "consent_granted", "charter_accepted", "credentials_issued"]


def make_database(base: str) -> str:
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    return f"{base}/{DB_NAME}"


def load(app, url: str, schools: int, events: int) -> dict:
    from idp.roster import import_roster
    from idp.roster.schools import upsert_school

    rng = random.Random(8)
    start = time.perf_counter()
    with app.app_context():
        for i in range(schools):
            upsert_school(f"{i:07d}B", f"Collège {i}", "nancy-metz")
            db.session.flush()
            import_roster(f"{i:07d}B", school_csv(rng, i, 750, 250), actor="bench")
            db.session.commit()
    roster_s = time.perf_counter() - start
    start = time.perf_counter()
    now = datetime.now(timezone.utc)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY audit_events (at, action, actor, target, ip, details) FROM STDIN") as copy:
            for n in range(events):
                action = ACTIONS[n % len(ACTIONS)]
                copy.write_row((now - timedelta(seconds=events - n), action,
                                f"p.bench{n % 40000}", f"client-{n % 12}",
                                f"10.{n % 250}.{n % 7}.{n % 200}", "{}"))
        conn.execute("ANALYZE")
        conn.commit()
    return {"roster_s": round(roster_s, 1), "events_copy_s": round(time.perf_counter() - start, 1)}


def timed(client, url: str, counter: list, runs: int = 20) -> dict:
    times, statements = [], []
    for _ in range(runs):
        counter[0] = 0
        start = time.perf_counter()
        response = client.get(url)
        body = response.data  # streamed responses are consumed here
        times.append((time.perf_counter() - start) * 1000)
        statements.append(counter[0])
        assert response.status_code == 200, (url, response.status_code, body[:300])
    return {"median_ms": round(statistics.median(times), 1),
            "p95_ms": round(sorted(times)[int(len(times) * .95) - 1], 1),
            "sql_statements": max(statements), "bytes": len(body)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--redis", default=None)
    args = parser.parse_args()
    url = make_database(args.pg.rstrip("/"))
    upgrade(url)
    tmp = Path(tempfile.mkdtemp())
    overrides = {"DATABASE_URL": url, **new_secret_values(),
                 "STORE_PATH": str(tmp / "store.sqlite3"),
                 "ISSUER": "http://127.0.0.1:5000"}
    if args.redis:
        overrides["REDIS_URL"] = args.redis
    app = create_app(overrides)
    loaded = load(app, url, args.schools, args.events)
    print("loaded", json.dumps(loaded), flush=True)

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support.admin import console_sign_in, make_staff
    from tests.support.browser import Browser

    browser = Browser(app.test_client())
    console_sign_in(browser, make_staff(app, "ops.bench"))
    counter = [0]

    @event.listens_for(db.engine, "before_cursor_execute")
    def count(*_):
        counter[0] += 1

    from idp.models import Account, AuditEvent, School

    with app.app_context():
        account_id = db.session.scalar(select(Account.id).where(
            Account.school_id.is_not(None), Account.profile == "parent").limit(1).offset(500))
        uai = db.session.scalar(select(School.uai).join(Account, Account.school_id == School.id)
                                .where(Account.id == account_id))
        deep = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id).offset(
            args.events // 10).limit(1))
        day = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    pages = {
        "school page": f"/admin/etablissements/{uai}",
        "search 'ber' (50 shown)": f"/admin/etablissements/{uai}/comptes?q=ber",
        "search one name": f"/admin/etablissements/{uai}/comptes?q=zz-nobody",
        "account page": f"/admin/etablissements/{uai}/comptes/{account_id}",
        "audit first page": "/admin/journal",
        "audit action filter": "/admin/journal?action=login_failed",
        "audit actor + dates": f"/admin/journal?actor=p.bench123&since={day}",
        "audit deep page (keyset)": f"/admin/journal?avant={deep}",
    }
    results = {name: timed(browser.client, path, counter) for name, path in pages.items()}
    results["csv export, 125,000 events"] = timed(
        browser.client, "/admin/journal.csv?action=login_failed", counter, runs=3)
    for name, figures in results.items():
        print(f"{name:30s} {json.dumps(figures)}", flush=True)


if __name__ == "__main__":
    main()
