#!/usr/bin/env python3
"""Instructions per refresh grant (or signed-in code flow), counted by valgrind, not timed.

    .venv/bin/python bench/instructions.py [--flow refresh|code] [--requests 100] [--before /tmp/before]

This machine's speed drifts by +-40 %, so a small change to the per-request cost (a
hook, a header) is lost in wall-clock benches. Instructions are not: the same code,
inputs and environment count the same within 0.3 %, whatever else the machine does.

What is counted: the IdP app in-process (`app(environ, start_response)`, the WSGI call
gunicorn makes) answering `--requests` refresh_token grants (`--flow code`: signed-in code
flows, the browser's authorize and the RP's authorization_code grant, as oidc_bench.py
(b) drives them), PostgreSQL + Redis real;
not gunicorn, nginx, the kernel nor the servers. Set-up (outside the count): a fresh
database, one account and client (oidc_bench.seed), a sign-in and a code flow through a
local HTTP server for a few refresh-token chains and a signed-in browser's cookies. `--before TREE` counts another
checkout's `idp` too (PYTHONPATH), set up on its own database, and prints both.
Needs valgrind (Debian package `valgrind`; `make bench` installs it).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/13"


def set_up(state_file: Path, database: str, prefix: str) -> None:
    """A database, an account, a client and refresh-token chains, written to state_file."""
    import secrets

    import oidc_bench as ob
    from werkzeug.serving import make_server

    tmp = Path(tempfile.mkdtemp(prefix="idp-instr-"))
    url = ob.prepare_database(ADMIN_URL, database)
    ob.flush_redis(REDIS_URL, prefix)
    try:
        from idp.secret_settings import new_values
    except ImportError:  # an older tree: one secret did it all
        def new_values():
            return {"SECRET_KEY": secrets.token_urlsafe(48)}
    port = ob.free_port()
    env = {"IDP_CONFIG": str(tmp / "none.toml"), "IDP_ISSUER": f"http://127.0.0.1:{port}",
           **{f"IDP_{k}": v for k, v in new_values().items()}, "IDP_DATABASE_URL": url,
           "IDP_REDIS_URL": REDIS_URL, "IDP_STORE_PREFIX": prefix,
           "IDP_KEYS_DIR": str(tmp / "keys")}
    os.environ.update(env)
    for args in (("keys", "generate"), ("db", "upgrade")):
        subprocess.run([ob.IDP, *args], env=dict(os.environ), check=True, capture_output=True)
    seeded = ob.seed(env, 5)
    from idp import create_app

    app = create_app()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg = {"host": "127.0.0.1", "port": port, **seeded}
    heads = ob.refresh_chains(cfg, 10)
    browser = ob.Browser("127.0.0.1", port)  # signed in, consent given: SSO from now on
    ob.sign_in(browser, ob._account(cfg, 0))
    ob.code_flow(browser, ob.Browser("127.0.0.1", port), cfg)
    server.shutdown()
    auth = ob.basic_auth(seeded["client_id"], seeded["client_secret"])["Authorization"]
    state_file.write_text(json.dumps({"env": env, "tokens": heads, "auth": auth,
                                      "port": port, "cookies": browser.cookies,
                                      "client_id": seeded["client_id"]}))


def measure(state_file: Path, requests: int, flow: str) -> None:
    """Run under callgrind with instrumentation off; on only around the requests."""
    state = json.loads(state_file.read_text())
    os.environ.update(state["env"])
    import secrets
    from urllib.parse import parse_qs, urlencode, urlsplit

    import oidc_bench as ob
    from idp import create_app

    app = create_app()

    def call(method: str, path: str, query: str = "", form: dict | None = None,
             headers: dict | None = None) -> tuple[str, dict, bytes]:
        body = urlencode(form).encode() if form is not None else b""
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(state["port"]),
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.version": (1, 0), "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": f"127.0.0.1:{state['port']}", "HTTP_USER_AGENT": "bench",
            **({"CONTENT_TYPE": "application/x-www-form-urlencoded",
                "CONTENT_LENGTH": str(len(body))} if form is not None else {}),
            **(headers or {})}
        answer = {}
        data = b"".join(app(environ, lambda status, hdrs, exc=None:
                            answer.update(status=status, headers=dict(hdrs))))
        return answer["status"], answer["headers"], data

    def grant(token: str) -> str:
        status, _, data = call("POST", "/oidc/token", headers={
            "HTTP_AUTHORIZATION": state["auth"]},
            form={"grant_type": "refresh_token", "refresh_token": token})
        if not status.startswith("200"):
            raise SystemExit(f"refresh grant answered {status}: {data[:200]!r}")
        return json.loads(data)["refresh_token"]

    cookie = "; ".join(f"{k}={v}" for k, v in state["cookies"].items())

    def code_flow(_: str) -> str:
        verifier, challenge = ob.pkce_pair()
        status, headers, data = call("GET", "/oidc/authorize", urlencode({
            "response_type": "code", "client_id": state["client_id"],
            "redirect_uri": ob.REDIRECT_URI, "scope": "openid profile", "state": "s",
            "nonce": secrets.token_urlsafe(16), "code_challenge": challenge, "code_challenge_method": "S256"}),
            headers={"HTTP_COOKIE": cookie})
        location = headers.get("Location", "")
        if not location.startswith(ob.REDIRECT_URI):
            raise SystemExit(f"authorize answered {status} to {location[:100]}: {data[:200]!r}")
        query = parse_qs(urlsplit(location).query)
        if "code" not in query:
            raise SystemExit(f"authorize answered no code: {location[:300]}")
        code = query["code"][0]
        status, _, data = call("POST", "/oidc/token", headers={
            "HTTP_AUTHORIZATION": state["auth"]}, form={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": ob.REDIRECT_URI, "code_verifier": verifier})
        if not status.startswith("200"):
            raise SystemExit(f"code grant answered {status}: {data[:200]!r}")
        return ""

    step = code_flow if flow == "code" else grant
    token = state["tokens"].pop(0)  # each measure takes a chain of its own
    state_file.write_text(json.dumps(state))
    for _ in range(20):  # warm: caches, pools, compiled statements
        token = step(token)
    control = ["callgrind_control", "-i"]
    subprocess.run([*control, "on", str(os.getpid())], check=True, capture_output=True)
    for _ in range(requests):
        token = step(token)
    subprocess.run([*control, "off", str(os.getpid())], check=True, capture_output=True)


def count(tree: Path, requests: int, label: str, flow: str) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="idp-instr-"))
    state, out = workdir / "state.json", workdir / "callgrind.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env["PYTHONPATH"] = str(tree)
    me = [sys.executable, __file__]
    subprocess.run([*me, "--set-up", str(state), "--database", f"idp_instr_{label}",
                    "--prefix", f"instr-{label}:"], env=env, check=True, cwd="/tmp",
                   capture_output=True)
    subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                    f"--callgrind-out-file={out}", *me, "--measure", str(state),
                    "--requests", str(requests), "--flow", flow], env=env, check=True, cwd="/tmp",
                   capture_output=True)
    totals = [line for line in out.read_text().splitlines() if line.startswith("totals:")]
    return int(totals[0].split()[1]) // requests


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=100, help="grants (or flows) counted")
    ap.add_argument("--flow", choices=("refresh", "code"), default="refresh",
                    help="refresh: refresh_token grants; code: signed-in code flows")
    ap.add_argument("--before", type=Path, help="another checkout to count as well")
    ap.add_argument("--set-up", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--database", default="idp_instr", help=argparse.SUPPRESS)
    ap.add_argument("--prefix", default="instr:", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.set_up:
        set_up(args.set_up, args.database, args.prefix)
        return 0
    if args.measure:
        measure(args.measure, args.requests, args.flow)
        return 0
    trees = [("after", BENCH.parent)] + ([("before", args.before)] if args.before else [])
    figures = {label: count(tree, args.requests, label, args.flow) for label, tree in trees}
    what = "signed-in code flow" if args.flow == "code" else "refresh grant"
    for label, tree in trees:
        print(f"{label:6s} {figures[label]:>12,} instructions per {what}  ({tree})")
    if args.before:
        print(f"after/before {figures['after'] / figures['before']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
