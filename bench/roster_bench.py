"""Roster benchmark (issue 4, point 7) against PostgreSQL, on a database of its own.

1. Import a generated roster of 100,000 pupils and 150,000 representatives: 100 schools of
   1,000 pupils (750 families each: 250 with two children, every family two
   representatives), one CSV per school through `import_roster`, as `idp roster import`
   does. Target: 60 s.
2. Letters for a school of 1,000 accounts (400 pupils, 600 representatives): fresh
   provisional passwords, the PDF, the commit. Target: 30 s.
3. One lifecycle pass over 1,000,000 accounts (the 251,000 above plus generated ones
   loaded with COPY, a realistic share of them due for a reminder, a deactivation or a
   deletion). Target: 60 s.

    .venv/bin/python bench/roster_bench.py [--pg postgresql://postgres@127.0.0.1:5432]
        [--schools 100] [--accounts 1000000]

Creates (and drops first) the database `idp_bench_roster`; prints the figures.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from idp import create_app  # noqa: E402
from idp.db import db  # noqa: E402
from idp.migrations import upgrade  # noqa: E402
from idp.secret_settings import new_values as new_secret_values  # noqa: E402

DB_NAME = "idp_bench_roster"
FIRST = ["Léa", "Hugo", "Chloé", "Louis", "Emma", "Jules", "Inès", "Adam", "Zoé", "Noé",
         "Manon", "Gabriel", "Jade", "Raphaël", "Lina", "Arthur", "Anaïs", "Maël", "Eva", "Sacha"]
LAST = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
        "Moreau", "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David",
        "Bertrand", "Morel", "Fournier", "Girard", "N'Diaye", "Le Gall", "Müller", "Garcia"]
# Surnames: the 24 above plus generated ones, so that, as in France, a few names are very
# common and most are rare (with 24 names only, every stem `l.martin` has hundreds of
# holders and identifier allocation reads them all at each import).
SYLLABLES = ["ber", "nar", "lo", "mi", "chel", "du", "ran", "mo", "reau", "fou", "nier",
             "gi", "rard", "bon", "net", "ca", "pe", "tit", "le", "roy", "va", "lin"]
LAST += [(a + b + c).capitalize() for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES]
HEADER = ("ine;nom;prenom;date_naissance;classe;resp1_nom;resp1_prenom;resp1_telephone;"
          "resp1_email;resp2_nom;resp2_prenom;resp2_telephone;resp2_email\n")


def school_csv(rng: random.Random, school_no: int, families: int, twins: int) -> bytes:
    """`families` families with two representatives; the first `twins` have two pupils."""
    out = [HEADER]
    n = 0
    for f in range(families):
        last = rng.choice(LAST) + ("" if rng.random() < .7 else f"-{rng.choice(LAST)}")
        phone1 = f"06{school_no:03d}{f:05d}"[:10]
        phone2 = f"06{school_no + 500:03d}{f:05d}"[:10]
        first1, first2 = rng.sample(FIRST, 2)  # two different people
        reps = (f"{last};{first1};{phone1};p{school_no}.{f}@example.org;"
                f"{last};{first2};{phone2};")
        for _child in range(2 if f < twins else 1):
            ine = f"{school_no:04d}{n:05d}0A"
            birth = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2008, 2015)}"
            out.append(f"{ine};{last};{rng.choice(FIRST)};{birth};{rng.randint(3, 6)}e "
                       f"{'ABCDEFGHIJ'[n % 10]};{reps}\n")
            n += 1
    return "".join(out).encode()


def make_database(base: str) -> str:
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    return f"{base}/{DB_NAME}"


def bench_import(app, schools: int) -> tuple[float, dict]:
    from idp.roster import import_roster
    from idp.roster.schools import upsert_school

    rng = random.Random(4)
    files = [school_csv(rng, i, 750, 250) for i in range(schools)]
    with app.app_context():
        for i in range(schools):
            upsert_school(f"{i:07d}B", f"Collège {i}", "nancy-metz")
        upsert_school("9999999L", "Collège des lettres", "reims")
        db.session.commit()
        totals = {"rows": 0, "created": 0, "rejected": 0, "accounts_created": 0}
        start = time.perf_counter()
        for i, data in enumerate(files):
            report = import_roster(f"{i:07d}B", data, actor="bench")
            db.session.commit()
            for key in totals:
                totals[key] += getattr(report, key)
        elapsed = time.perf_counter() - start
        start2 = time.perf_counter()
        again = import_roster("0000000B", files[0], actor="bench")
        db.session.commit()
        totals["reimport_one_school_s"] = round(time.perf_counter() - start2, 2)
        totals["reimport_unchanged"] = again.unchanged
    return elapsed, totals


def bench_letters(app) -> tuple[float, dict]:
    from idp.roster import find_school, import_roster, issue_letters

    rng = random.Random(5)
    with app.app_context():
        import_roster("9999999L", school_csv(rng, 999, 300, 100), actor="bench")
        db.session.commit()
        start = time.perf_counter()
        batch = issue_letters(find_school("9999999L"), actor="bench")
        out = Path(tempfile.mkdtemp()) / "letters.pdf"
        out.write_bytes(batch.pdf)
        db.session.commit()
        elapsed = time.perf_counter() - start
    return elapsed, {"letters": len(batch.letters), "pdf_bytes": out.stat().st_size}


def load_accounts(url: str, total: int, now: datetime) -> dict:
    """COPY generated accounts up to `total`: most active, some due for each step."""
    with psycopg.connect(url) as conn:
        existing = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
        school_id = conn.execute("SELECT min(id) FROM schools").fetchone()[0]
        wanted = max(total - existing, 0)
        rng = random.Random(6)
        counts = {"remind": 0, "deactivate": 0, "delete": 0}
        cols = ("public_id, identifier, identifier_stem, password_hash, profile, state, "
                "academy_code, first_name, last_name, email, email_verified, locale, "
                "created_at, session_epoch, birth_date_failures, school_id, issued_at, "
                "activation_deadline, activated_at")
        with conn.cursor() as cur, cur.copy(f"COPY accounts ({cols}) FROM STDIN") as copy:
            for n in range(wanted):
                r = rng.random()
                issued, state, activated = now - timedelta(days=rng.randint(0, 40)), \
                    "provisional", None
                if r < .04:
                    issued, kind = now - timedelta(days=70), "remind"
                elif r < .08:
                    issued, kind = now - timedelta(days=100), "deactivate"
                elif r < .11:
                    issued, state, kind = now - timedelta(days=400), "deactivated", "delete"
                elif r < .8:
                    state, activated, kind = "active", now - timedelta(days=200), None
                else:
                    kind = None
                if kind:
                    counts[kind] += 1
                stem = f"b.bench{n % 5000}"
                copy.write_row((str(uuid.uuid4()), f"{stem}x{n}", stem, "!", "parent", state,
                                "nancy-metz", "Prénom", "Nom", f"b{n}@example.org",
                                activated is not None, "fr", issued, 0, 0, school_id, issued,
                                issued + timedelta(days=92), activated))
        conn.execute("ANALYZE accounts")
        conn.commit()
    return {"copied": wanted, "existing": existing, **counts}


def bench_lifecycle(app, url: str, total: int) -> tuple[float, dict]:
    from idp.lifecycle import run_lifecycle

    now = datetime.now(timezone.utc)
    start = time.perf_counter()
    loaded = load_accounts(url, total, now)
    load_s = time.perf_counter() - start
    with app.app_context():
        start = time.perf_counter()
        summary = run_lifecycle(now=now)
        db.session.commit()
        elapsed = time.perf_counter() - start
        start = time.perf_counter()
        again = run_lifecycle(now=now)
        db.session.commit()
        again_s = time.perf_counter() - start
    return elapsed, {"loaded": loaded, "copy_s": round(load_s, 1), "pass": summary,
                     "second_pass_s": round(again_s, 2),
                     "second_pass": {k: again[k] for k in ("reminded", "deactivated", "deleted")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    args = parser.parse_args()
    url = make_database(args.pg.rstrip("/"))
    upgrade(url)
    tmp = Path(tempfile.mkdtemp())
    app = create_app({"DATABASE_URL": url, **new_secret_values(),
                      "STORE_PATH": str(tmp / "store.sqlite3"),
                      "ISSUER": "http://127.0.0.1:5000"})
    results = {}
    for name, target, run in (("import", 60, lambda: bench_import(app, args.schools)),
                              ("letters", 30, lambda: bench_letters(app)),
                              ("lifecycle", 60, lambda: bench_lifecycle(app, url, args.accounts))):
        elapsed, details = run()
        results[name] = {"seconds": round(elapsed, 2), "target_s": target,
                         "ok": elapsed <= target, **details}
        print(f"{name:10s} {elapsed:7.2f} s (target {target} s) {json.dumps(details)}",
              flush=True)
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
