"""FranceConnect sign-in benchmark (issue 19): what a parent's « S'identifier avec
FranceConnect » costs the IdP, over real HTTP on the loopback, against the stand-in
(clients/franceconnect.py) and the IdP under gunicorn (2 workers), SQLite and the
embedded store in a temporary directory (or PostgreSQL and Redis with --pg/--redis).

Prints, for the IdP's callback (/franceconnect/retour: code for tokens, ID token and
userinfo JWT verified, account found by `sub`, session opened), the median and 95th
percentile over --rounds sign-ins of a linked identity:
- warm: discovery and JWKS from the store (the usual case);
- cold: discovery and JWKS fetched first (after their store entries are dropped, as
  after a restart of every node or a key rotation);
and the whole round trip a family waits for (button -> FranceConnect's page -> pick ->
back signed in), the stand-in's own page included.

    .venv/bin/python bench/franceconnect_bench.py [--rounds 30] [--json]
        [--pg postgresql://postgres@127.0.0.1:5432/test --redis redis://127.0.0.1:6379/14]

With --pg the run uses a schema of its own in that database (dropped at the end); with
--redis, keys under a prefix of its own (deleted at the end).
"""
from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _private_schema(url: str):
    """A schema of this run's own (search_path in the URL) and the callback dropping it."""
    from sqlalchemy import text

    from idp.db import make_engine
    schema = f"bench_fc_{secrets.token_hex(4)}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()

    def drop():
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()

    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", drop


def _settings(base: Path, pg: str | None, redis: str | None) -> dict:
    from idp.keys.sealing import new_key_encryption_key
    from idp.secret_settings import new_values
    settings = {"ISSUER": "http://localhost", **new_values(),
                "DATABASE_URL": pg or f"sqlite:///{base / 'idp.sqlite3'}",
                "KEY_ENCRYPTION_KEY": new_key_encryption_key(),
                "STORE_PATH": str(base / "store.sqlite3"),
                "STORE_PREFIX": f"bench-fc-{secrets.token_hex(4)}:",
                "TESTING": True, "DEMO_CLIENTS_FILE": str(base / "demo_clients.json")}
    if redis:
        settings["REDIS_URL"] = redis
    return settings


def _quantiles(values: list[float]) -> dict:
    values = sorted(values)
    return {"median_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(values[max(0, int(len(values) * 0.95) - 1)] * 1000, 1),
            "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--pg")
    parser.add_argument("--redis")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    drop_schema = None
    if args.pg:
        args.pg, drop_schema = _private_schema(args.pg)
    try:
        timings = _run(args)
    finally:
        if drop_schema is not None:
            drop_schema()
    result = {"backend": "postgresql+redis" if args.pg else "sqlite+embedded store",
              "callback_warm": _quantiles(timings["warm"]),
              "callback_cold": _quantiles(timings["cold"]),
              "round_trip": _quantiles(timings["round_trip"])}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"FranceConnect sign-in of a linked parent ({result['backend']}, "
          f"{args.rounds} rounds)")
    for key, label in (("callback_warm", "callback, JWKS and discovery from the store"),
                       ("callback_cold", "callback, discovery + JWKS fetched first"),
                       ("round_trip", "round trip seen by the family")):
        q = result[key]
        print(f"  {label:<48} median {q['median_ms']:7.1f} ms   p95 {q['p95_ms']:7.1f} ms"
              f"   (n={q['n']})")


def _run(args) -> dict:
    from clients.franceconnect import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
    from idp import create_app
    from idp.admin.demo import load_demo
    from idp.db import db
    from idp.extensions import store
    from idp.keys import keyset
    from idp.keys.sealing import key_encryption
    from idp.migrations import upgrade
    from tests.support.franceconnect import (FranceConnectFamily, FranceConnectSetup,
                                             serve_franceconnect)
    from tests.support.served import free_port, serve_idp

    with tempfile.TemporaryDirectory(prefix="fc-bench-") as tmp:
        base = Path(tmp)
        settings = _settings(base, args.pg, args.redis)
        upgrade(settings["DATABASE_URL"])
        app = create_app(settings)
        with app.app_context():
            keyset.generate(db.session, key_encryption(app.config))
            load_demo()
            db.session.commit()
        idp_port, fc_port = free_port(), free_port()
        idp_url, fc_url = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{fc_port}"
        with serve_franceconnect(fc_port, idp_url, base) as fc, serve_idp(
                settings, base, port=idp_port, FRANCECONNECT_ENABLED=True,
                FRANCECONNECT_DISCOVERY_URL=fc_url + "/api/v2/.well-known/openid-configuration",
                FRANCECONNECT_CLIENT_ID=DEFAULT_CLIENT_ID,
                FRANCECONNECT_CLIENT_SECRET=DEFAULT_CLIENT_SECRET) as idp:
            setup = FranceConnectSetup(idp, fc)
            first = FranceConnectFamily(app, setup)
            first.sign_in("nadia")
            first.first_link()
            first.browser.through_steps()
            assert first.path == "/", first.browser.url
            callback = idp_url + "/franceconnect/retour"
            timings = {"warm": [], "cold": [], "round_trip": []}
            for n in range(args.rounds):
                cold = n % 3 == 2
                if cold:
                    with app.app_context():
                        store().delete("fc:discovery", "fc:jwks")
                family = FranceConnectFamily(app, setup)
                family.choose_parent()
                started = time.perf_counter()
                family.click_button()
                family.pick("nadia", stop_at=callback)
                answer = family.browser.url
                t0 = time.perf_counter()
                response = family.browser.http.get(answer, allow_redirects=False, timeout=15)
                elapsed = time.perf_counter() - t0
                assert response.status_code == 302, (response.status_code, response.text[:300])
                family.browser._follow(response, None)
                timings["round_trip"].append(time.perf_counter() - started)
                timings["cold" if cold else "warm"].append(elapsed)
                # Signed in: home, or a J5 step the plan still asks (contact details).
                assert family.path in ("/", "/preferences"), family.browser.url
            with app.app_context():
                store().flush()  # this run's prefix only
    return timings


if __name__ == "__main__":
    main()
