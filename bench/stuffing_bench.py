"""Credential stuffing benchmark (issue 17, point 6), in process, against PostgreSQL and
Redis, with the production argon2id parameters unless told otherwise.

1. Sign-in rate with device-cookie checks on and off, in the same run, alternating
   blocks (on, off, argon2, on, off, argon2...): a family's browser that holds its device cookie signs in
   again and again (GET /connexion, POST the form: a 302 is a sign-in). "Off" replaces
   the cookie reading and writing by nothing (what the code did before issue 17). The
   argon2 ceiling (verifications per second) is measured in the third block of each
   round, and each rate is printed as a share of it, as the OIDC bench does.
2. A stuffing run: 1,000 attempts from 50 addresses with leaked-looking pairs
   (identifiers of the p.nomXX form, a quarter of them real families', with passwords
   from the shipped common-password list), a few addresses sending most of them as a
   botnet does. Every 25 attempts a family with a device cookie signs in from one of the
   attacking addresses, and its identifier is among the attacked ones. Prints how many
   attempts were slowed (429), how many reached a password check, and whether every
   family with a device cookie signed in each time.

    .venv/bin/python bench/stuffing_bench.py [--pg postgresql://postgres@127.0.0.1:5432]
        [--redis redis://127.0.0.1:6379/14] [--rounds 6] [--block 15] [--json]
        [--argon2-time-cost 3 --argon2-memory-cost 65536]

Creates (and drops first) the database `idp_bench_stuffing`; keys under a fresh prefix.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import secrets
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from idp import create_app  # noqa: E402
from idp.db import db  # noqa: E402
from idp.migrations import upgrade  # noqa: E402
from idp.secret_settings import new_values as new_secret_values  # noqa: E402
from idp.security import common_passwords, device_cookies  # noqa: E402

DB_NAME = "idp_bench_stuffing"
PASSWORD = "Cartable-Bleu-2031"


def make_database(base: str) -> str:
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    return f"{base}/{DB_NAME}"


def seed(app, families: int) -> list[str]:
    from idp.admin.accounts import create_account

    with app.app_context():
        identifiers = []
        for i in range(families):
            account = create_account(identifier=f"f.famille{i}", password=PASSWORD,
                                     profile="parent", academy="nancy-metz", active=True,
                                     first_name="Famille", last_name=str(i))
            identifiers.append(account.identifier)
        db.session.commit()
    return identifiers


def browser(app, ip: str):
    from tests.support.browser import Browser

    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return Browser(client)


def attempt(b, identifier: str, password: str) -> int:
    b.get("/connexion?changer=1")
    return b.submit("/connexion?changer=1", {"identifier": identifier, "password": password},
                    follow=False).status_code


class CookiesOff:
    """Device-cookie checks off: nothing read, nothing written (the code before issue 17)."""

    def __enter__(self):
        self.saved = device_cookies._entries, device_cookies.remember
        device_cookies._entries = lambda: []
        device_cookies.remember = lambda account: None

    def __exit__(self, *exc):
        device_cookies._entries, device_cookies.remember = self.saved


def rate_bench(app, identifier: str, rounds: int, block: int) -> dict:
    """Sign-ins per second with the checks on, off, and argon2 verifications per second
    (the ceiling), in alternating blocks: the machine's drift hits the three alike."""
    family = browser(app, "192.0.2.10")
    assert attempt(family, identifier, PASSWORD) == 302  # the device cookie
    with app.app_context():
        hasher = app.extensions["idp"]["passwords"]
        stored = hasher.hash(PASSWORD)
    timings = {"on": [0.0, 0], "off": [0.0, 0], "argon2": [0.0, 0]}
    for r in range(rounds * 3):
        mode = ("on", "off", "argon2")[r % 3]
        start = time.perf_counter()
        if mode == "argon2":
            for _ in range(block):
                hasher.verify(stored, PASSWORD)
        else:
            with CookiesOff() if mode == "off" else nullcontext():
                for _ in range(block):
                    status = attempt(family, identifier, PASSWORD)
                    assert status == 302, status
        timings[mode][0] += time.perf_counter() - start
        timings[mode][1] += block
    return {mode: n / spent for mode, (spent, n) in timings.items()}


def leaked_passwords(count: int, rng: random.Random) -> list[str]:
    lines = gzip.open(common_passwords.DATA, "rb").read().split(b"\n")[:-1]
    return [rng.choice(lines).decode() for _ in range(count)]


def stuffing_run(app, families: list[str], attempts: int, addresses: int,
                 rng: random.Random) -> dict:
    trusted = {}
    for n, identifier in enumerate(families):
        b = browser(app, f"192.0.2.{100 + n}")
        assert attempt(b, identifier, PASSWORD) == 302
        trusted[identifier] = b
    ips = [f"198.51.100.{i + 1}" for i in range(addresses)]
    # A few addresses send most attempts (half the run from 5 addresses).
    weights = [20 if i < 5 else 1 for i in range(addresses)]
    passwords = leaked_passwords(attempts, rng)
    attackers = {ip: browser(app, ip) for ip in ips}
    statuses = {"slowed": 0, "password_checked": 0, "signed_in": 0}
    family_sign_ins, family_failures = 0, []
    start = time.perf_counter()
    for n in range(attempts):
        ip = rng.choices(ips, weights)[0]
        if rng.random() < 0.25:
            identifier = rng.choice(families)
        else:
            identifier = f"{rng.choice('abcdefghijklmnopqrstuvwxyz')}.{secrets.token_hex(3)}" \
                         f"{rng.randint(1, 99)}"
        status = attempt(attackers[ip], identifier, passwords[n])
        if status == 429:
            statuses["slowed"] += 1
        else:
            statuses["password_checked"] += 1
            statuses["signed_in"] += status == 302
        if n % 25 == 24:  # a family with its device cookie, behind an attacking address
            identifier = rng.choice(families)
            b = trusted[identifier]
            b.client.environ_base["REMOTE_ADDR"] = rng.choices(ips, weights)[0]
            family_sign_ins += 1
            if attempt(b, identifier, PASSWORD) != 302:
                family_failures.append(identifier)
    return {"attempts": attempts, "addresses": addresses, **statuses,
            "seconds": round(time.perf_counter() - start, 1),
            "family_sign_ins_with_device_cookie": family_sign_ins,
            "family_sign_ins_refused": len(family_failures),
            "every_family_with_a_device_cookie_signed_in": not family_failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--block", type=int, default=15)
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--addresses", type=int, default=50)
    parser.add_argument("--families", type=int, default=20)
    parser.add_argument("--argon2-time-cost", type=int, default=None)
    parser.add_argument("--argon2-memory-cost", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url = make_database(args.pg.rstrip("/"))
    upgrade(url)
    tmp = Path(tempfile.mkdtemp())
    overrides = {"DATABASE_URL": url, **new_secret_values(), "STORE_PATH": str(tmp / "s.db"),
                 "REDIS_URL": args.redis, "STORE_PREFIX": f"bench-stuffing-{secrets.token_hex(3)}:",
                 "ISSUER": "http://127.0.0.1:5000", "SESSION_COOKIE_SECURE": False,
                 "NEW_DEVICE_NOTICE": False}
    if args.argon2_time_cost:
        overrides["ARGON2_TIME_COST"] = args.argon2_time_cost
    if args.argon2_memory_cost:
        overrides["ARGON2_MEMORY_COST"] = args.argon2_memory_cost
    app = create_app(overrides)
    families = seed(app, args.families)
    rng = random.Random(17)
    rates = rate_bench(app, families[0], args.rounds, args.block)
    ceiling = rates.pop("argon2")
    run = stuffing_run(app, families, args.attempts, args.addresses, rng)
    result = {
        "argon2": {"time_cost": app.config["ARGON2_TIME_COST"],
                   "memory_cost": app.config["ARGON2_MEMORY_COST"],
                   "verifications_per_second": round(ceiling, 1)},
        "sign_in_rate": {mode: {"per_second": round(rate, 1),
                                "share_of_argon2_ceiling": round(rate / ceiling, 3)}
                         for mode, rate in rates.items()},
        "cookie_checks_cost": round(1 - rates["on"] / rates["off"], 3),
        "stuffing": run,
        "settings": {k: app.config[k] for k in (
            "LOCKOUT_THRESHOLD", "LOCKOUT_ACCOUNT_THRESHOLD", "LOCKOUT_IP_THRESHOLD",
            "LOCKOUT_IP_MAX_DELAY_SECONDS", "LOCKOUT_MAX_DELAY_SECONDS")},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    a = result["argon2"]
    print(f"argon2id t={a['time_cost']} m={a['memory_cost']}: "
          f"{a['verifications_per_second']} verifications/s (one process, the ceiling; "
          f"measured in blocks alternating with the sign-ins)")
    for mode, r in result["sign_in_rate"].items():
        print(f"sign-ins with device-cookie checks {mode:>3}: {r['per_second']}/s "
              f"({r['share_of_argon2_ceiling']:.0%} of the argon2 ceiling)")
    print(f"device-cookie checks cost {result['cookie_checks_cost']:.1%} of the sign-in rate")
    s = result["stuffing"]
    print(f"stuffing: {s['attempts']} attempts from {s['addresses']} addresses in "
          f"{s['seconds']} s: {s['slowed']} slowed (429), {s['password_checked']} reached a "
          f"password check, {s['signed_in']} signed in")
    print(f"families with a device cookie: {s['family_sign_ins_with_device_cookie']} sign-ins "
          f"behind attacking addresses, {s['family_sign_ins_refused']} refused -> every "
          f"family signed in: {s['every_family_with_a_device_cookie_signed_in']}")


if __name__ == "__main__":
    main()
