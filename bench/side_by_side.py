#!/usr/bin/env python3
"""Two trees of the IdP measured in the same session, alternating: before and after.

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/side_by_side.py --before /tmp/before [--rounds 3] [--proxy]

Each round runs, for each tree (the order alternates from round to round), the OIDC
bench's refresh grants (a) and signed-in code flows (b) and the SAML bench, on
PostgreSQL + Redis. Both trees are driven by this tree's bench scripts and this virtual
environment; only the IdP code differs (PYTHONPATH). `--proxy`: nginx in front of the
IdP for both (bench/proxy.py); `--proxy-after`: for the after tree only (the before tree
measured direct, as its own bench did). Prints, per figure, each tree's range and the
after/before ratio of the medians (progress on stderr, JSON with --json).
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


def measure(tree: Path, args, proxied: bool) -> dict:
    proxy = ["--proxy"] if proxied else []
    oidc = _run_json([PYTHON, str(BENCH / "oidc_bench.py"), "--json", "--only", "a",
                      "--only", "b", "--duration", str(args.duration), "--attempts", "1",
                      "--quiet-wait", str(args.quiet_wait), *proxy], tree)
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
                           str(args.duration), "--quiet-wait", str(args.quiet_wait), *proxy],
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
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    trees = {"before": args.before.resolve(), "after": AFTER}
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for n in range(args.rounds):
        order = ["before", "after"] if n % 2 == 0 else ["after", "before"]
        for name in order:
            proxied = args.proxy or (args.proxy_after and name == "after")
            figures = measure(trees[name], args, proxied)
            runs[name].append(figures)
            log(f"round {n + 1} {name}: {figures}")
    summary = {}
    for key in ("refresh_grants", "code_flows", "saml_sso"):
        before = [r[key] for r in runs["before"]]
        after = [r[key] for r in runs["after"]]
        summary[key] = {"before": [min(before), max(before)], "after": [min(after), max(after)],
                        "ratio_of_medians": round(statistics.median(after)
                                                  / statistics.median(before), 3)}
    if args.json:
        print(json.dumps({"runs": runs, "summary": summary}, indent=2))
    else:
        for key, s in summary.items():
            print(f"{key:15} before {s['before'][0]:8.1f}-{s['before'][1]:<8.1f} "
                  f"after {s['after'][0]:8.1f}-{s['after'][1]:<8.1f} "
                  f"after/before {s['ratio_of_medians']:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
