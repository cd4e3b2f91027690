#!/usr/bin/env python3
"""Two trees of the IdP measured in the same session, alternating: before and after.

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/side_by_side.py --before /tmp/before [--rounds 3] [--proxy]

Each round runs, for each tree (the order alternates from round to round), the OIDC
bench's refresh grants (a) and signed-in code flows (b) and the SAML bench, on
PostgreSQL + Redis. Both trees are driven by this tree's bench scripts and this virtual
environment; only the IdP code differs (PYTHONPATH). `--proxy`: nginx in front of the
IdP for both (bench/proxy.py); `--proxy-after`: for the after tree only (the before tree
measured direct, as its own bench did). `--no-access-log-too`: a third column, the after
tree served with `--no-access-log` (the before tree had no access log: what the JSON
access line of the operations issue costs). `--server-pool N` (with --proxy): the after
tree deployed as README "Two pools" says, its servers' endpoints and single sign-on
answered by N sync workers of their own (oidc_bench.py and saml_bench.py --server-pool).
Prints, per figure, each column's range and its ratio of medians to the before tree's
(progress on stderr, JSON with --json).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
AFTER = BENCH.parent
PYTHON = sys.executable
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _run_json(cmd: list[str], tree: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env["PYTHONPATH"] = str(tree)
    done = subprocess.run(cmd, env=env, cwd="/tmp", capture_output=True, text=True,
                          timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[1]} failed for {tree}: {done.stderr[-1500:]}")
    return json.loads(done.stdout[done.stdout.index("{"):])


def fresh_database(name: str) -> str:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def measure(tree: Path, args, proxied: bool, serve_args: tuple[str, ...] = (),
            server_pool: int = 0) -> dict:
    proxy = ["--proxy"] if proxied else []
    proxy += [f"--serve-arg={arg}" for arg in serve_args]
    pool = ["--server-pool", str(server_pool)] if server_pool else []
    oidc = _run_json([PYTHON, str(BENCH / "oidc_bench.py"), "--json", "--only", "a",
                      "--only", "b", "--duration", str(args.duration), "--attempts", "1",
                      "--quiet-wait", str(args.quiet_wait), *proxy, *pool], tree)
    figures = {}
    for scenario in oidc["scenarios"]:
        key = {"a": "refresh_grants", "b": "code_flows"}[scenario["scenario"]]
        figures[key] = scenario["per_second"]
        figures[key + "_cpu_ms"] = scenario["cpu"].get("server_cpu_ms_per_op")
        figures[key + "_errors"] = scenario["errors"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update(IDP_DATABASE_URL=fresh_database("idp_saml_bench"),
               IDP_REDIS_URL="redis://127.0.0.1:6379/13", PYTHONPATH=str(tree))
    done = subprocess.run([PYTHON, str(BENCH / "saml_bench.py"), "--duration",
                           str(args.duration), "--quiet-wait", str(args.quiet_wait), *proxy,
                           *pool],
                          env=env, cwd="/tmp", capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"saml_bench failed for {tree}: {done.stderr[-1500:]}")
    saml = json.loads(done.stdout[done.stdout.index("{"):])
    figures["saml_sso"] = saml["responses_per_second"]
    figures["saml_sso_cpu_ms"] = saml["server_cpu_ms_per_response"]
    figures["saml_sso_errors"] = saml["errors"]
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="work tree of the before commit")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--quiet-wait", type=float, default=20.0)
    ap.add_argument("--proxy", action="store_true", help="nginx in front, both trees")
    ap.add_argument("--proxy-after", action="store_true", help="nginx in front, after only")
    ap.add_argument("--no-access-log-too", action="store_true",
                    help="a third column: the after tree with idp serve --no-access-log")
    ap.add_argument("--server-pool", type=int, default=0, metavar="N",
                    help="with --proxy: the after tree's servers' endpoints and "
                         "single sign-on on N sync workers")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.server_pool and not args.proxy:
        ap.error("--server-pool needs --proxy")
    columns = {"before": (args.before.resolve(), ()), "after": (AFTER, ())}
    if args.no_access_log_too:
        columns["after, no access log"] = (AFTER, ("--no-access-log",))
    runs: dict[str, list[dict]] = {name: [] for name in columns}
    names = list(columns)
    for n in range(args.rounds):
        order = names[n % len(names):] + names[:n % len(names)]  # each goes first in turn
        for name in order:
            proxied = args.proxy or (args.proxy_after and name != "before")
            tree, serve_args = columns[name]
            figures = measure(tree, args, proxied, serve_args,
                              0 if name == "before" else args.server_pool)
            runs[name].append(figures)
            log(f"round {n + 1} {name}: {figures}")
    summary = {}
    for key in ("refresh_grants", "code_flows", "saml_sso"):
        before = statistics.median(r[key] for r in runs["before"])
        summary[key] = {name: {"range": [min(r[key] for r in runs[name]),
                                         max(r[key] for r in runs[name])],
                               "ratio_of_medians": round(statistics.median(
                                   r[key] for r in runs[name]) / before, 3)}
                        for name in names}
    if args.json:
        print(json.dumps({"runs": runs, "summary": summary}, indent=2))
    else:
        for key, by_column in summary.items():
            print(f"{key:15} " + "  ".join(
                f"{name} {c['range'][0]:.1f}-{c['range'][1]:.1f}"
                + ("" if name == "before" else f" ({c['ratio_of_medians']:.0%})")
                for name, c in by_column.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
