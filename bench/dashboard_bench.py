"""School dashboard benchmark (issue 20, point 4) against PostgreSQL, on a database of its
own.

Loads a large lycée (3,000 pupils, 5,000 representatives: 2,500 families of two
representatives, 500 of them with two children, 36 classes) and `--schools` other
collèges of 1,000 pupils around it (the IdP is larger than one school), all through
`import_roster`; then moves a realistic share of the lycée's accounts on (activated,
pending email, deactivated, a few registered by SMS). Signs a school staff member in
through the console's forms and times the pages (median and p95 of 20 runs of the wall
time, median of the app's own CPU time, which the machine's load disturbs less; SQL
statements per page):

- the dashboard (every class's figures), the list behind one figure, searches by name,
  pupil, email and state, the CSV export of the whole school, the bulk-letter
  confirmation of a class;
- and prints PostgreSQL's plans (EXPLAIN ANALYZE) for the dashboard's two aggregate
  queries and a search's two queries: the scans, their indexes, the database time.

    .venv/bin/python bench/dashboard_bench.py [--pg postgresql://postgres@127.0.0.1:5432]
        [--schools 10]

Creates (and drops first) the database `idp_bench_dashboard`; prints the figures.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from idp import create_app  # noqa: E402
from idp.db import db  # noqa: E402
from idp.migrations import upgrade  # noqa: E402
from idp.secret_settings import new_values as new_secret_values  # noqa: E402

from roster_bench import FIRST, HEADER, LAST, school_csv  # noqa: E402

DB_NAME = "idp_bench_dashboard"
LYCEE = "0570099L"
CLASSES = [f"{level} {letter}" for level in ("2nde", "1re", "Tle") for letter in "ABCDEFGHIJKL"]


def lycee_csv(rng: random.Random, families: int = 2500, twins: int = 500) -> bytes:
    out = [HEADER]
    n = 0
    for f in range(families):
        last = rng.choice(LAST) + ("" if rng.random() < .7 else f"-{rng.choice(LAST)}")
        first1, first2 = rng.sample(FIRST, 2)
        reps = (f"{last};{first1};077{f:07d};l{f}@example.org;"
                f"{last};{first2};078{f:07d};")
        for _child in range(2 if f < twins else 1):
            birth = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2007, 2010)}"
            out.append(f"9{n:08d}9L;{last};{rng.choice(FIRST)};{birth};"
                       f"{CLASSES[n % len(CLASSES)]};{reps}\n")
            n += 1
    return "".join(out).encode()


def make_database(base: str) -> str:
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    return f"{base}/{DB_NAME}"


def load(app, url: str, schools: int) -> dict:
    from idp.roster import import_roster
    from idp.roster.schools import upsert_school

    rng = random.Random(20)
    start = time.perf_counter()
    with app.app_context():
        for i in range(schools):
            upsert_school(f"{i:07d}C", f"Collège {i}", "nancy-metz")
            db.session.flush()
            import_roster(f"{i:07d}C", school_csv(rng, i, 750, 250), actor="bench")
            db.session.commit()
        upsert_school(LYCEE, "Lycée Georges de La Tour", "nancy-metz")
        db.session.flush()
        report = import_roster(LYCEE, lycee_csv(rng), actor="bench")
        db.session.commit()
    roster_s = time.perf_counter() - start
    with psycopg.connect(url) as conn:
        school_id = conn.execute("SELECT id FROM schools WHERE uai = %s", (LYCEE,)).fetchone()[0]
        # The lycée's accounts move on: 55 % activated, 10 % pending email, 5 %
        # deactivated, 3 % registered by SMS (no letter), the rest never activated.
        conn.execute("""
            WITH lycee AS (
              SELECT a.id FROM pupil_records p JOIN accounts a ON a.id = p.account_id
               WHERE p.school_id = %(s)s
              UNION
              SELECT r.account_id FROM pupil_records p
                JOIN record_guardian_links l ON l.pupil_record_id = p.id
                JOIN representative_records r ON r.id = l.representative_record_id
               WHERE p.school_id = %(s)s AND r.account_id IS NOT NULL)
            UPDATE accounts SET
              issued_at = CASE WHEN id %% 100 < 3 THEN NULL ELSE now() - interval '40 days' END,
              activation_deadline = now() + interval '52 days',
              state = CASE WHEN id %% 100 < 58 THEN 'active'
                           WHEN id %% 100 < 68 THEN 'pending_email'
                           WHEN id %% 100 < 73 THEN 'deactivated'
                           ELSE 'provisional' END,
              email = CASE WHEN id %% 100 < 68 THEN 'famille' || id || '@example.org' END
             WHERE id IN (SELECT id FROM lycee)""", {"s": school_id})
        counts = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
        conn.execute("ANALYZE")
        conn.commit()
    return {"roster_s": round(roster_s, 1), "lycee_rows": report.rows, "accounts": counts}


def timed(client, url: str, counter: list, runs: int = 20) -> dict:
    times, cpu, statements = [], [], []
    for _ in range(runs):
        counter[0] = 0
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        body = response.data
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        statements.append(counter[0])
        assert response.status_code in (200, 400), (url, response.status_code, body[:300])
    return {"median_ms": round(statistics.median(times), 1),
            "p95_ms": round(sorted(times)[int(len(times) * .95) - 1], 1),
            "app_cpu_ms": round(statistics.median(cpu), 1),
            "sql_statements": max(statements), "bytes": len(body)}


def plans(app) -> dict:
    """What PostgreSQL does for the dashboard's and a search's queries (EXPLAIN ANALYZE:
    the scans, which index, the time inside the database)."""
    from idp.admin import dashboard
    from idp.models import School

    out = {}
    with app.app_context():
        school = db.session.query(School).filter_by(uai=LYCEE).one()
        for name, run in (("figures", lambda: dashboard.figures(school)),
                          ("search 'ber'",
                           lambda: dashboard.search(school, dashboard.Filters(q="ber")))):
            captured = []

            def grab(conn, cursor, statement, parameters, context, executemany):
                if statement.lstrip().upper().startswith("SELECT"):
                    captured.append((statement, parameters))

            event.listen(db.engine, "before_cursor_execute", grab)
            run()
            event.remove(db.engine, "before_cursor_execute", grab)
            for n, (statement, parameters) in enumerate(captured):
                rows = db.session.connection().exec_driver_sql(
                    "EXPLAIN ANALYZE " + statement, parameters)
                plan = [r[0].strip() for r in rows]
                out[f"{name}, query {n + 1}"] = [
                    line for line in plan if "Scan" in line or "Execution Time" in line]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--schools", type=int, default=10)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database of the previous run (no load)")
    args = parser.parse_args()
    url = f"{args.pg.rstrip('/')}/{DB_NAME}"
    if not args.reuse:
        url = make_database(args.pg.rstrip("/"))
    upgrade(url)  # also brings a reused database to the current schema
    tmp = Path(tempfile.mkdtemp())
    app = create_app({"DATABASE_URL": url, **new_secret_values(),
                      "STORE_PATH": str(tmp / "store.sqlite3"),
                      "ISSUER": "http://127.0.0.1:5000"})
    if not args.reuse:
        print("loaded", json.dumps(load(app, url, args.schools)), flush=True)

    from tests.support.admin import console_sign_in, make_staff
    from tests.support.browser import Browser
    from tests.support.factories.base import bind

    bind(app)  # the staff factory writes through this app
    browser = Browser(app.test_client())
    console_sign_in(browser, make_staff(app, f"ecole.bench{int(time.time())}",
                                        role="school_staff",
                                        schools=[LYCEE]))
    counter = [0]

    @event.listens_for(db.engine, "before_cursor_execute")
    def count(*_):
        counter[0] += 1

    base = f"/admin/etablissements/{LYCEE}/tableau"
    pages = {
        "dashboard (36 classes)": base,
        "list behind a figure": f"{base}/liste?classe=1re+B&etat=never_activated",
        "search by name 'ber'": f"{base}/liste?q=ber",
        "search by pupil 'Léa'": f"{base}/liste?eleve=L%C3%A9a",
        "search by email": f"{base}/liste?email=famille12",
        "search state + origin": f"{base}/liste?etat=activated&origine=sms",
        "bulk letters confirmation": f"{base}/courriers?classe=Tle+C",
    }
    results = {name: timed(browser.client, path, counter) for name, path in pages.items()}
    results["csv export, whole lycée"] = timed(browser.client, f"{base}/liste?format=csv",
                                               counter, runs=5)
    for name, figures in results.items():
        print(f"{name:30s} {json.dumps(figures)}", flush=True)
    print(json.dumps(plans(app), indent=1, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
