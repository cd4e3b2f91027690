#!/usr/bin/env python3
"""OIDC load benchmark: starts the IdP (gunicorn, PostgreSQL, Redis) and prints figures.

Not a test: it measures, over real HTTP on the loopback, what the production setup
(`idp serve --workers 2`, production argon2 parameters) sustains on this machine:

  (a) refresh-token grants per second (rotating refresh tokens, one chain per client);
  (b) complete authorization-code flows per second for a browser already signed in
      (authorize -> redirect_uri with code -> token, PKCE S256);
  (c) password sign-ins per second against the argon2id ceiling (cores / verify time).

Usage:  .venv/bin/python bench/oidc_bench.py [--duration 10] [--concurrency 4]
                                             [--only a|b|c] [--json]
See bench/README.md for what each figure means.

The load generator is deliberately light because it shares the machine's cores with the
server, PostgreSQL and Redis: wrk (a C program; bench/refresh_chains.lua and
bench/code_flows.lua) for (a) and (b), stdlib http.client processes with cookies handled
by hand for (c), and for (a) and (b) when wrk is missing. Everything is bounded: a
duration per scenario, a request cap per client process, loopback only.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import multiprocessing as mp
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proxy  # noqa: E402  (bench/proxy.py)
import wrk_load  # noqa: E402  (bench/wrk_load.py)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
IDP = str(VENV_BIN / "idp") if (VENV_BIN / "idp").exists() else shutil.which("idp") or "idp"

TARGETS = {"a": 1500.0, "b": 300.0, "c": 0.80}  # (c) is a fraction of the argon2 ceiling
TITLES = {"a": "refresh_token grants", "b": "authorization-code flows (signed in)",
          "c": "password sign-ins"}
PASSWORD = "Bench-Pass-2024!"
PROFILE, ACADEMY = "parent", "nancy-metz"
REDIRECT_URI = "http://127.0.0.1:9/bench/callback"  # nothing listens: the code is read
#                                                      from the Location header
CSRF_RE = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def log(*parts) -> None:
    print("[bench]", *parts, file=sys.stderr, flush=True)


# -- a tiny HTTP client ---------------------------------------------------------------------
class Browser:
    """One keep-alive connection (re-opened when the server closes it) and a cookie jar
    for a single host. Light on purpose: the load generator shares the CPU with the server."""

    def __init__(self, host: str, port: int, cookies: dict | None = None):
        self.host, self.port = host, port
        self.netloc = f"{host}:{port}"
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.cookies: dict[str, str] = dict(cookies or {})

    def close(self) -> None:
        self.conn.close()

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None, send_cookies: bool = True):
        hdrs = {"Host": self.netloc, "User-Agent": "oidc-bench", "Accept": "*/*"}
        if send_cookies and self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        hdrs.update(headers or {})
        reused = self.conn.sock is not None
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The classic keep-alive race: the server closed an idle connection just as
            # we reused it. Nothing reached the application; send once more.
            self.conn.close()
            if not reused:
                raise
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
        data = resp.read()
        if send_cookies:
            for raw in resp.msg.get_all("Set-Cookie") or ():
                self._take_cookie(raw)
        return resp.status, resp.msg, data

    def _take_cookie(self, raw: str) -> None:
        first, _, attrs = raw.partition(";")
        name, _, value = first.strip().partition("=")
        attrs = attrs.lower()
        if not value or "max-age=0" in attrs or "1970" in attrs:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value.strip('"')

    def local_path(self, location: str) -> str | None:
        """The path of a redirect on the IdP itself, or None when it leaves the IdP."""
        parts = urlsplit(location)
        if parts.netloc and parts.netloc != self.netloc:
            return None
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class BenchError(RuntimeError):
    pass


def csrf_token(html: bytes) -> str:
    m = CSRF_RE.search(html)
    if not m:
        raise BenchError("no csrf_token hidden input in the page")
    return (m.group(1) or m.group(2)).decode()


def basic_auth(client_id: str, secret: str) -> dict:
    from urllib.parse import quote

    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def sign_in(b: Browser, identifier: str, via_wayf: bool = True) -> None:
    """A browser session: choose the profile (J1) then sign in with the password (J2)."""
    if via_wayf:
        status, _, page = b.request("GET", "/choisir-profil")
        if status != 200:
            raise BenchError(f"GET /choisir-profil -> {status}")
        status, _, _ = b.request("POST", "/choisir-profil", form={
            "csrf_token": csrf_token(page), "profile": PROFILE, "academy": ACADEMY})
        if status != 302:
            raise BenchError(f"POST /choisir-profil -> {status}")
    status, _, page = b.request("GET", "/connexion")
    if status != 200:
        raise BenchError(f"GET /connexion -> {status}")
    status, hdrs, _ = post_sign_in(b, {
        "csrf_token": csrf_token(page), "identifier": identifier, "password": PASSWORD})
    if status != 302:
        raise BenchError(f"POST /connexion -> {status} (sign-in refused)")


def post_sign_in(b: Browser, form: dict, give_up: float = 60.0):
    """POST the sign-in form as a browser does, waiting room included (issue 18): on a
    503 with Retry-After, wait that long and reload /connexion/attente (the page's meta
    refresh), until answered otherwise or `give_up` seconds have passed."""
    first = time.monotonic()
    status, hdrs, body = b.request("POST", "/connexion", form=form)
    while status == 503 and hdrs.get("Retry-After") and time.monotonic() - first < give_up:
        time.sleep(float(hdrs["Retry-After"]))
        status, hdrs, body = b.request("GET", "/connexion/attente")
    return status, hdrs, body


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def code_flow(b: Browser, rp: Browser, cfg: dict, steps: dict | None = None) -> dict:
    """authorize -> (IdP redirects) -> redirect_uri?code= -> token. Returns the token JSON.
    `steps` collects per-endpoint latencies (seconds) when given."""
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    path = "/oidc/authorize?" + urlencode({
        "response_type": "code", "client_id": cfg["client_id"], "redirect_uri": REDIRECT_URI,
        "scope": "openid profile", "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    for _hop in range(8):
        t0 = time.monotonic()
        status, hdrs, _ = b.request("GET", path)
        if steps is not None:
            steps.setdefault(urlsplit(path).path, []).append(time.monotonic() - t0)
        if status not in (302, 303):
            raise BenchError(f"GET {urlsplit(path).path} -> {status}, expected a redirect")
        location = hdrs.get("Location", "")
        if location.startswith(REDIRECT_URI):
            break
        path = b.local_path(location)
        if path is None:
            raise BenchError(f"redirected off the IdP to {location}")
    else:
        raise BenchError("too many redirects before the redirect_uri")
    query = parse_qs(urlsplit(location).query)
    if "code" not in query:
        raise BenchError(f"no code in the redirect: {location[:200]}")
    if query.get("state") != [state]:
        raise BenchError("state mismatch in the redirect")
    t0 = time.monotonic()
    status, _, data = rp.request("POST", "/oidc/token", form={
        "grant_type": "authorization_code", "code": query["code"][0],
        "redirect_uri": REDIRECT_URI, "code_verifier": verifier},
        headers=basic_auth(cfg["client_id"], cfg["client_secret"]), send_cookies=False)
    if steps is not None:
        steps.setdefault("/oidc/token", []).append(time.monotonic() - t0)
    if status != 200:
        raise BenchError(f"POST /oidc/token (code) -> {status}: {data[:200]!r}")
    token = json.loads(data)
    if "id_token" not in token or "refresh_token" not in token:
        raise BenchError("token response without id_token or refresh_token")
    return token


# -- load-generator processes ------------------------------------------------------------
def _account(cfg: dict, index: int) -> str:
    return cfg["accounts"][index % len(cfg["accounts"])]


def _setup_refresh(cfg: dict, wid: int):
    b = Browser(cfg["host"], cfg["port"])
    rp = Browser(cfg["host"], cfg["port"])
    sign_in(b, _account(cfg, wid))
    token = code_flow(b, rp, cfg)
    b.close()
    return {"rp": rp, "refresh_token": token["refresh_token"], "browser_wid": wid}


def _op_refresh(cfg: dict, st: dict, extra: dict) -> None:
    status, _, data = st["rp"].request("POST", "/oidc/token", form={
        "grant_type": "refresh_token", "refresh_token": st["refresh_token"]},
        headers=cfg["auth_header"], send_cookies=False)
    if status != 200:
        # The chain is broken (rotation): start a new one outside the measure.
        st.update(_setup_refresh(cfg, st["browser_wid"]))
        raise BenchError(f"POST /oidc/token (refresh) -> {status}: {data[:160]!r}")
    st["refresh_token"] = json.loads(data)["refresh_token"]


def _setup_flow(cfg: dict, wid: int):
    b = Browser(cfg["host"], cfg["port"])
    sign_in(b, _account(cfg, wid))
    return {"b": b, "rp": Browser(cfg["host"], cfg["port"])}


def _op_flow(cfg: dict, st: dict, extra: dict) -> None:
    code_flow(st["b"], st["rp"], cfg, steps=extra.setdefault("steps", {}))


def _setup_signin(cfg: dict, wid: int):
    return {"n": 0, "wid": wid}


def _op_signin(cfg: dict, st: dict, extra: dict) -> None:
    # Spread over the accounts: worker w uses w, w+C, w+2C... (counters are per IP+account).
    identifier = _account(cfg, st["wid"] + st["n"] * cfg["concurrency"])
    st["n"] += 1
    # A fresh browser each time, on a device that remembers its WAYF choice.
    b = Browser(cfg["host"], cfg["port"], cookies={"idp_wayf": f"{PROFILE}:{ACADEMY}"})
    try:
        t0 = time.monotonic()
        status, _, page = b.request("GET", "/connexion")
        if status != 200:
            raise BenchError(f"GET /connexion -> {status}")
        t1 = time.monotonic()
        status, _, _ = post_sign_in(b, {
            "csrf_token": csrf_token(page), "identifier": identifier, "password": PASSWORD})
        t2 = time.monotonic()
        if status != 302:
            raise BenchError(f"POST /connexion -> {status} (sign-in refused)")
        steps = extra.setdefault("steps", {})
        steps.setdefault("GET /connexion", []).append(t1 - t0)
        steps.setdefault("POST /connexion", []).append(t2 - t1)
    finally:
        b.close()


SCENARIOS = {"a": (_setup_refresh, _op_refresh), "b": (_setup_flow, _op_flow),
             "c": (_setup_signin, _op_signin)}


def _worker(name: str, cfg: dict, wid: int, barrier, out) -> None:
    setup, op = SCENARIOS[name]
    result = {"wid": wid, "latencies": [], "errors": 0, "error_samples": [], "extra": {}}
    try:
        state = setup(cfg, wid)
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        result["fatal"] = f"setup: {exc!r}"
        try:
            barrier.abort()
        finally:
            out.put(result)
        return
    try:
        barrier.wait(timeout=300)
    except threading.BrokenBarrierError:
        result["fatal"] = "another client process failed its setup"
        out.put(result)
        return
    start = time.monotonic()
    measure_from = start + cfg["warmup"]
    deadline = measure_from + cfg["duration"]
    cpu0 = None
    lat, extra = result["latencies"], result["extra"]
    done = 0
    while done < cfg["max_requests"]:
        t0 = time.monotonic()
        if t0 >= deadline:
            break
        if cpu0 is None and t0 >= measure_from:
            cpu0 = os.times()
            result["t_start"] = t0
            extra.clear()
        try:
            op(cfg, state, extra)
        except Exception as exc:  # noqa: BLE001 - counted, sampled
            if t0 >= measure_from:
                result["errors"] += 1
                if len(result["error_samples"]) < 3:
                    result["error_samples"].append(repr(exc)[:300])
            continue
        t1 = time.monotonic()
        if t0 >= measure_from:
            lat.append(t1 - t0)
            done += 1
    result["t_end"] = time.monotonic()
    result.setdefault("t_start", result["t_end"])
    cpu1 = os.times()
    cpu0 = cpu0 or cpu1
    result["cpu_seconds"] = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    out.put(result)


# -- CPU accounting (Linux /proc) ------------------------------------------------------------
# The machine is shared (other engineers run test suites on it): every scenario reports
# where the CPU went, and waits for a quiet machine before it starts.
CLK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[float, int, str]:
    """(utime+stime seconds, ppid, command name) of a process."""
    with open(f"/proc/{pid}/stat") as fh:
        raw = fh.read()
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK, int(fields[1]), comm


def snapshot() -> dict:
    """Every process's CPU seconds, plus the machine's busy/total seconds."""
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                procs[int(entry)] = _proc_stat(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    with open("/proc/stat") as fh:
        vals = [int(v) for v in fh.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return {"procs": procs, "busy": (sum(vals) - idle) / CLK, "total": sum(vals) / CLK,
            "t": time.monotonic()}


Pids = int | tuple[int, ...]  # the gunicorn masters of the IdP (one, or the two pools)


def _descendants(procs: dict, root: Pids) -> set:
    keep, frontier = set(), {root} if isinstance(root, int) else set(root)
    while frontier:
        keep |= frontier
        frontier = {p for p, (_, ppid, _) in procs.items() if ppid in frontier} - keep
    return keep


def cpu_split(s0: dict, s1: dict, server_pid: Pids) -> dict:
    """Cores used between two snapshots by: the IdP (gunicorn masters + workers), this
    bench (load generator), PostgreSQL, Redis, anything else (other users' processes)."""
    wall = s1["t"] - s0["t"]
    server = _descendants(s1["procs"], server_pid) | _descendants(s0["procs"], server_pid)
    bench = _descendants(s1["procs"], os.getpid()) | _descendants(s0["procs"], os.getpid())
    groups = {"server": 0.0, "loadgen": 0.0, "postgres": 0.0, "redis": 0.0, "proxy": 0.0}
    for pid, (cpu, _, comm) in s1["procs"].items():
        before = s0["procs"].get(pid)
        delta = cpu - before[0] if before and before[2] == comm else cpu
        if pid in server:
            groups["server"] += delta
        elif comm.startswith("nginx"):  # --proxy: started by the bench, not load
            groups["proxy"] += delta
        elif pid in bench:
            groups["loadgen"] += delta
        elif comm.startswith("postgres"):
            groups["postgres"] += delta
        elif comm.startswith("redis"):
            groups["redis"] += delta
    busy = s1["busy"] - s0["busy"]
    out = {k + "_cores": round(v / wall, 2) for k, v in groups.items()}
    out["foreign_cores"] = round(max(0.0, busy - sum(groups.values())) / wall, 2)
    out["machine_busy_pct"] = round(100 * busy / (s1["total"] - s0["total"]), 1)
    out["_server_seconds"] = groups["server"]
    return out


def wait_for_quiet(server_pid: Pids, limit: float, max_wait: float) -> float:
    """Wait (up to max_wait s) until processes foreign to the bench use < limit cores.
    Returns the foreign load seen last."""
    deadline = time.monotonic() + max_wait
    while True:
        s0 = snapshot()
        time.sleep(1.0)
        foreign = cpu_split(s0, snapshot(), server_pid)["foreign_cores"]
        if foreign < limit or time.monotonic() >= deadline:
            return foreign
        log(f"machine busy with other processes ({foreign:.2f} cores): waiting...")


def gunicorn_workers(root: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if _proc_stat(int(entry))[1] == root:
                    pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return pids


# -- statistics ------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 2)


def run_scenario(name: str, cfg: dict, server_pid: Pids) -> dict:
    ctx = mp.get_context("fork")
    n = cfg["concurrency"]
    barrier, out = ctx.Barrier(n + 1), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(name, cfg, wid, barrier, out), daemon=True)
             for wid in range(n)]
    for p in procs:
        p.start()
    log(f"({name}) {TITLES[name]}: {n} client processes setting up...")
    try:
        barrier.wait(timeout=300)
    except threading.BrokenBarrierError:
        pass
    # The CPU split covers the measuring window only (after the warm-up).
    time.sleep(cfg["warmup"])
    s0, s1 = snapshot(), None
    results = []
    deadline = time.monotonic() + cfg["warmup"] + cfg["duration"] + 600
    while len(results) < n and time.monotonic() < deadline:
        try:
            results.append(out.get(timeout=0.5))
        except Exception:  # noqa: BLE001 - queue.Empty
            pass
        if s1 is None and (results or time.monotonic() - s0["t"] >= cfg["duration"]):
            s1 = snapshot()
    for p in procs:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()
    s1 = s1 or snapshot()
    fatal = [r["fatal"] for r in results if "fatal" in r]
    if fatal or len(results) < n:
        raise BenchError(f"scenario {name} failed: {fatal or 'client processes lost'}")

    lat = [v for r in results for v in r["latencies"]]
    ops, errors = len(lat), sum(r["errors"] for r in results)
    window = max(r["t_end"] for r in results) - min(r["t_start"] for r in results)
    rate = ops / window if window > 0 else 0.0
    steps: dict[str, list] = {}
    for r in results:
        for k, v in r["extra"].get("steps", {}).items():
            steps.setdefault(k, []).extend(v)
    cpu = run_cpu(s0, s1, server_pid, rate)
    res = {
        "scenario": name, "title": TITLES[name], "concurrency": n,
        "operations": ops, "errors": errors,
        "error_samples": [s for r in results for s in r["error_samples"]][:5],
        "seconds": round(window, 2), "per_second": round(rate, 1),
        "p50_ms": ms(pct(lat, 50)), "p99_ms": ms(pct(lat, 99)),
        "steps_p50_ms": {k: ms(pct(v, 50)) for k, v in steps.items()},
        "steps_p99_ms": {k: ms(pct(v, 99)) for k, v in steps.items()},
        "cpu": cpu,
        "contended": cpu["foreign_cores"] >= cfg["quiet_limit"],
    }
    if name == "b":
        res["http_requests_per_flow"] = round(
            sum(len(v) for v in steps.values()) / ops, 2) if ops else None
        res["http_requests_per_second"] = round(
            rate * (res["http_requests_per_flow"] or 0), 1)
    if name == "c":
        res["http_requests_per_signin"] = 2
        res["note"] = "each sign-in = GET /connexion (CSRF page, fresh session) + POST /connexion"
    return res


def refresh_chains(cfg: dict, count: int, first: int = 0) -> list[str]:
    """`count` fresh refresh tokens, each the head of its own grant and of its own family
    (as many RPs' families renewing at once: one account's row shared by every chain
    would serialise their foreign-key locks, which real traffic does not do)."""
    rp = Browser(cfg["host"], cfg["port"])
    heads = []
    for i in range(first, first + count):
        b = Browser(cfg["host"], cfg["port"])
        sign_in(b, _account(cfg, i))
        heads.append(code_flow(b, rp, cfg)["refresh_token"])
        b.close()
    rp.close()
    return heads


def run_cpu(s0: dict, s1: dict, server_pid: Pids, rate: float, wrk: dict | None = None) -> dict:
    """The CPU split of a run (with `wrk`, wrk's own CPU as the load generator's) and the
    IdP's CPU per operation at `rate` operations per second."""
    cpu = cpu_split(s0, s1, server_pid)
    if wrk is not None:
        wrk_load.account_cpu(cpu, wrk, s1["t"] - s0["t"])
    server_seconds = cpu.pop("_server_seconds")
    cpu["server_cpu_ms_per_op"] = round(1000 * server_seconds / (s1["t"] - s0["t"]) / rate,
                                        2) if rate else None
    return cpu


def run_refresh_wrk(cfg: dict, server_pid: Pids) -> dict:
    """Scenario (a) with wrk: `wrk_connections` rotating chains, each grant presenting
    the refresh token the previous one returned (bench/refresh_chains.lua)."""
    url = f"http://{cfg['host']}:{cfg['port']}"
    script = str(ROOT / "bench" / "refresh_chains.lua")
    n = cfg["wrk_connections"]
    auth = cfg["auth_header"]["Authorization"]
    log(f"(a) {TITLES['a']}: wrk, {n} connections, {n} refresh-token chains")
    wrk_load.run(url, script, [auth, *refresh_chains(cfg, n)], connections=n,
                 duration=max(1.0, cfg["warmup"]))  # warm-up, its own chains
    heads = refresh_chains(cfg, n, first=n)
    s0 = snapshot()
    out = wrk_load.run(url, script, [auth, *heads], connections=n, duration=cfg["duration"])
    s1 = snapshot()
    rate = out["per_second"]
    cpu = run_cpu(s0, s1, server_pid, rate, wrk=out)
    return {"scenario": "a", "title": TITLES["a"], "concurrency": n,
            "load_generator": "wrk (1 thread)", "operations": out["requests"],
            "errors": out["errors"], "error_samples": [] if not out["errors"] else
            [out["report"][-300:]], "seconds": round(out["seconds"], 2),
            "per_second": round(rate, 1), "p50_ms": ms(out["p50"]), "p99_ms": ms(out["p99"]),
            "steps_p50_ms": {}, "steps_p99_ms": {}, "cpu": cpu,
            "contended": cpu["foreign_cores"] >= cfg["quiet_limit"]}


def run_flows_wrk(cfg: dict, server_pid: Pids) -> dict:
    """Scenario (b) with wrk: `flow_connections` requests in flight, each flow an authorize
    request from one of as many signed-in browsers, then the token request redeeming its
    code (bench/code_flows.lua); per-flow latency measured in the script."""
    url = f"http://{cfg['host']}:{cfg['port']}"
    script = str(ROOT / "bench" / "code_flows.lua")
    n = cfg["flow_connections"]
    cookies = []
    for i in range(n):
        b = Browser(cfg["host"], cfg["port"])
        sign_in(b, _account(cfg, i))
        cookies.append("; ".join(f"{k}={v}" for k, v in b.cookies.items()))
        b.close()
    verifier, challenge = pkce_pair()  # the same pair for every flow: the IdP's work
    #                                    does not depend on it, each code is still new
    authorize = "/oidc/authorize?" + urlencode({
        "response_type": "code", "client_id": cfg["client_id"], "redirect_uri": REDIRECT_URI,
        "scope": "openid profile", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    body = urlencode({"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI,
                      "code_verifier": verifier})
    args = [cfg["auth_header"]["Authorization"], authorize, body, *cookies]
    log(f"(b) {TITLES['b']}: wrk, {n} connections, {n} signed-in browsers")
    wrk_load.run(url, script, args, connections=n, duration=max(1.0, cfg["warmup"]))
    s0 = snapshot()
    out = wrk_load.run(url, script, args, connections=n, duration=cfg["duration"])
    s1 = snapshot()
    found = re.search(r"^FLOWS (\d+) p50 ([\d.-]+) p99 ([\d.-]+) failures (\d+)$",
                      out["report"], re.M)
    if found is None:
        raise BenchError(f"no FLOWS line in the wrk report: {out['report'][-300:]}")
    flows, failures = int(found.group(1)), int(found.group(4))
    rate = flows / out["seconds"]
    cpu = run_cpu(s0, s1, server_pid, rate, wrk=out)
    errors = failures + out["errors"]
    return {"scenario": "b", "title": TITLES["b"], "concurrency": n,
            "load_generator": "wrk (1 thread)", "operations": flows, "errors": errors,
            "error_samples": [] if not errors else [out["report"][-300:]],
            "seconds": round(out["seconds"], 2), "per_second": round(rate, 1),
            "p50_ms": round(float(found.group(2)), 2), "p99_ms": round(float(found.group(3)), 2),
            "steps_p50_ms": {"per request (authorize or token)": ms(out["p50"])},
            "steps_p99_ms": {"per request (authorize or token)": ms(out["p99"])},
            "http_requests_per_flow": round(out["requests"] / flows, 2) if flows else None,
            "http_requests_per_second": round(out["per_second"], 1),
            "cpu": cpu, "contended": cpu["foreign_cores"] >= cfg["quiet_limit"]}


# -- setting the IdP up ----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(admin_url: str, name: str) -> str:
    import psycopg

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise BenchError(f"unsafe database name {name!r}")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(admin_url)
    return parts._replace(path="/" + name).geturl()


def analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def flush_redis(url: str, prefix: str) -> int:
    import redis

    r = redis.Redis.from_url(url)
    keys = list(r.scan_iter(match=prefix + "*", count=1000))
    for i in range(0, len(keys), 500):
        r.delete(*keys[i:i + 500])
    r.close()
    return len(keys)


def run_cli(env: dict, *args: str) -> dict:
    proc = subprocess.run([IDP, *args, "--json"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0:
        raise BenchError(f"idp {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout)


def seed(env: dict, n_accounts: int) -> dict:
    """N active parent accounts (one argon2 hash shared: same password) and a confidential
    client, created through the project's own functions in an app context."""
    os.environ.update(env)
    from idp import create_app
    from idp.admin.accounts import create_account
    from idp.db import db
    from idp.oidc.clients import register_client

    app = create_app()
    ext = app.extensions["idp"]
    real = ext["passwords"]

    class HashOnce:  # seeding only: one argon2 hash for N accounts with the same password
        def __init__(self):
            self.cache = {}

        def hash(self, password):
            if password not in self.cache:
                self.cache[password] = real.hash(password)
            return self.cache[password]

        def __getattr__(self, attr):
            return getattr(real, attr)

    ext["passwords"] = HashOnce()
    identifiers = [f"bench.parent.{i:04d}" for i in range(n_accounts)]
    with app.app_context():
        from idp.models import ContactPreferences

        for ident in identifiers:
            account = create_account(identifier=ident, password=PASSWORD, profile=PROFILE,
                                     academy=ACADEMY, first_name="Bench", last_name=ident[-4:],
                                     email=f"{ident}@bench.invalid", active=True)
            # Families past J5 (steady state): "Contact et préférences" answered; no
            # charter is published in the bench database. The plan still checks every
            # step on each flow.
            db.session.add(ContactPreferences(account_id=account.id))
        reg = register_client(name=f"bench-{secrets.token_hex(4)}",
                              redirect_uris=[REDIRECT_URI],
                              token_auth_method="client_secret_basic")
        reg.row.trusted_for_school = True  # the school's own service: no consent page
        client_id, client_secret = reg.row.client_id, reg.client_secret
        db.session.commit()
        db.session.remove()
    ext["passwords"] = real
    db.engine.dispose()
    return {"accounts": identifiers, "client_id": client_id, "client_secret": client_secret}


def argon2_verify_seconds(samples: int = 20) -> tuple[float, dict]:
    import argon2

    from idp.config import DEFAULTS

    params = {"time_cost": DEFAULTS["ARGON2_TIME_COST"],
              "memory_cost": DEFAULTS["ARGON2_MEMORY_COST"],
              "parallelism": DEFAULTS["ARGON2_PARALLELISM"]}
    hasher = argon2.PasswordHasher(**params, type=argon2.Type.ID)
    stored = hasher.hash(PASSWORD)
    hasher.verify(stored, PASSWORD)  # warm-up
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), params


class Server:
    def __init__(self, env: dict, port: int, workers: int, logfile: Path,
                 threads: int | None = None, serve_args: tuple[str, ...] = ()):
        self.env, self.port, self.workers, self.logfile = env, port, workers, logfile
        self.threads, self.serve_args = threads, tuple(serve_args)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        self._log = open(self.logfile, "wb")
        self.proc = subprocess.Popen(
            [IDP, "serve", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
             *(["--threads", str(self.threads)] if self.threads else []), *self.serve_args],
            env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        ok = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"idp serve exited with {self.proc.returncode}; "
                                 f"log: {self.tail()}")
            try:
                b = Browser("127.0.0.1", self.port)
                status, _, _ = b.request("GET", "/.well-known/openid-configuration")
                b.close()
                ok = ok + 1 if status == 200 else 0
                if ok >= 4 and len(gunicorn_workers(self.proc.pid)) >= self.workers:
                    return
            except OSError:
                ok = 0
            time.sleep(0.2)
        raise BenchError(f"the IdP did not answer within {timeout}s; log: {self.tail()}")

    def tail(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own process group only
            self.proc.wait(timeout=10)


# -- output ----------------------------------------------------------------------------------
def fmt(v, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.1f}{unit}" if v >= 100 else f"{v:,.2f}{unit}"
    return f"{v:,}{unit}"


def table(report: dict) -> str:
    rows = [("scenario", "rate/s", "p50 ms", "p99 ms", "ops", "errors", "target", "met")]
    for r in report["scenarios"]:
        target = r["target"]
        tgt = f"{target:,.0f}/s" if r["scenario"] != "c" else \
            f">= {TARGETS['c']:.0%} of {r['argon2']['ceiling_per_second']:.1f}/s"
        rows.append((f"({r['scenario']}) {r['title']}", fmt(r["per_second"]), fmt(r["p50_ms"]),
                     fmt(r["p99_ms"]), fmt(r["operations"]), fmt(r["errors"]), tgt,
                     "yes" if r["target_met"] else "NO"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for j, row in enumerate(rows):
        lines.append("  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                               for i, c in enumerate(row)))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    out = ["", f"OIDC bench  {report['server']}  "
           f"{report['machine']['cores']} cores  {report['concurrency']} client processes  "
           f"{report['duration']}s per scenario", "", *lines, ""]
    for r in report["scenarios"]:
        cpu = r["cpu"]
        out.append(f"({r['scenario']}) CPU cores: IdP {fmt(cpu['server_cores'])}, "
                   f"PostgreSQL {fmt(cpu['postgres_cores'])}, Redis {fmt(cpu['redis_cores'])}, "
                   f"load generator {fmt(cpu['loadgen_cores'])}, other users "
                   f"{fmt(cpu['foreign_cores'])} (machine {fmt(cpu['machine_busy_pct'])}% busy);"
                   f" IdP CPU per op {fmt(cpu['server_cpu_ms_per_op'])} ms")
        if r["contended"]:
            out.append("    WARNING: other processes competed for the CPU during this "
                       "scenario; the figure is pessimistic")
        if r["steps_p50_ms"]:
            out.append("    p50 per request: " + ", ".join(
                f"{k} {fmt(v)} ms" for k, v in r["steps_p50_ms"].items()))
        if r["scenario"] == "b":
            out.append(f"    {fmt(r['http_requests_per_flow'])} HTTP requests per flow = "
                       f"{fmt(r['http_requests_per_second'])} requests/s")
        if r["scenario"] == "c":
            a = r["argon2"]
            out.append(f"    argon2id verify (t={a['time_cost']}, m={a['memory_cost']} KiB, "
                       f"p={a['parallelism']}): median {fmt(a['verify_ms'])} ms of "
                       f"{a['samples']} -> ceiling {report['machine']['cores']} cores / "
                       f"verify = {fmt(a['ceiling_per_second'])}/s; achieved "
                       f"{r['per_second']}/s = {r['ratio_to_ceiling']:.0%} of the ceiling")
            out.append(f"    {r['note']}")
        for s in r["error_samples"]:
            out.append(f"    error: {s}")
    return "\n".join(out)


def measure(name: str, cfg: dict, server_pid: Pids, args) -> dict:
    """One run of a scenario, on a machine as quiet as we can get, with its target."""
    wait_for_quiet(server_pid, args.quiet_limit, args.quiet_wait)
    if name == "c":
        log("timing argon2id verify in-process (server idle)...")
        verify, params = argon2_verify_seconds(20)
    if name == "a" and cfg["wrk_connections"]:
        res = run_refresh_wrk(cfg, server_pid)
    elif name == "b" and cfg["flow_connections"]:
        res = run_flows_wrk(cfg, server_pid)
    else:
        res = run_scenario(name, cfg, server_pid)
    if name == "c":
        ceiling = os.cpu_count() / verify
        res["argon2"] = {**params, "samples": 20, "verify_ms": ms(verify),
                         "ceiling_per_second": round(ceiling, 2)}
        res["ratio_to_ceiling"] = round(res["per_second"] / ceiling, 3)
        res["target"] = round(TARGETS["c"] * ceiling, 2)
        met = res["ratio_to_ceiling"] >= TARGETS["c"]
    else:
        res["target"] = TARGETS[name]
        met = res["per_second"] >= TARGETS[name]
    res["target_met"] = bool(met and res["errors"] == 0)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=10.0, help="seconds measured per scenario")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds run before measuring")
    ap.add_argument("--concurrency", type=int, default=4, help="client processes")
    ap.add_argument("--only", choices=("a", "b", "c"), action="append",
                    help="run only this scenario (repeatable)")
    ap.add_argument("--max-requests", type=int, default=50000,
                    help="cap on measured operations per client process")
    ap.add_argument("--accounts", type=int, default=200, help="accounts to seed")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (idp serve)")
    ap.add_argument("--serve-arg", action="append", default=[],
                    help="one more argument for idp serve (e.g. --serve-arg=--no-access-log)")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads per worker (idp serve --threads; default: its own)")
    ap.add_argument("--wrk-connections", type=int, default=12,
                    help="scenario (a): wrk connections = refresh-token chains; 0 uses the "
                         "Python load generator instead (also when wrk is not installed)")
    ap.add_argument("--flow-connections", type=int, default=4,
                    help="scenario (b): wrk connections = requests in flight, one signed-in "
                         "browser each; 0 uses the Python load generator instead (also when "
                         "wrk is not installed)")
    ap.add_argument("--port", type=int, default=0, help="IdP port (default: a free one)")
    ap.add_argument("--proxy", action="store_true",
                    help="put nginx in front (bench/proxy.py): clients keep their "
                         "connections to nginx, which opens one per request to the workers")
    ap.add_argument("--server-pool", type=int, default=0, metavar="N",
                    help="with --proxy: a second `idp serve`, N sync workers (--threads 1), "
                         "answers the servers' endpoints (token, userinfo, JWKS, discovery) "
                         "and the authorization (request_lifecycle.NGINX_LOCATIONS), "
                         "as README \"Two pools\" deploys it")
    ap.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test",
                    help="PostgreSQL URL used to (re)create the bench database")
    ap.add_argument("--database", default="idp_bench",
                    help="database dropped and re-created for the bench")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--store-prefix", default="bench:")
    ap.add_argument("--quiet-limit", type=float, default=0.25,
                    help="cores other processes may use before a scenario starts")
    ap.add_argument("--quiet-wait", type=float, default=120.0,
                    help="seconds to wait at most for the machine to be quiet")
    ap.add_argument("--attempts", type=int, default=2,
                    help="runs per scenario when other processes competed for the CPU "
                         "(the least disturbed run is kept)")
    ap.add_argument("--keep-server", action="store_true",
                    help="leave the IdP running at the end (for profiling); prints its PID")
    ap.add_argument("--json", action="store_true",
                    help="print the report as JSON on stdout (progress stays on stderr)")
    args = ap.parse_args(argv)
    only = sorted(set(args.only or ["a", "b", "c"]))
    if args.concurrency < 1 or args.duration <= 0:
        ap.error("--concurrency must be >= 1 and --duration > 0")
    if args.server_pool and not args.proxy:
        ap.error("--server-pool needs --proxy (nginx routes the servers' endpoints to it)")

    try:
        from idp.secret_settings import new_values as new_secret_values  # the bench's own
    except ImportError:  # an older tree (side_by_side.py's before): one secret did it all
        def new_secret_values():
            return {"SECRET_KEY": secrets.token_urlsafe(48)}

    port = args.port or free_port()
    public_port = proxy.free_port() if args.proxy else port  # what clients connect to
    tmp = Path(tempfile.mkdtemp(prefix="idp-bench-"))
    log(f"preparing database {args.database}, Redis {args.redis_url} ({args.store_prefix}*)")
    database_url = prepare_database(args.admin_url, args.database)
    flushed = flush_redis(args.redis_url, args.store_prefix)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update({
        "IDP_CONFIG": str(tmp / "none.toml"),  # defaults + these variables only
        "IDP_ISSUER": f"http://127.0.0.1:{public_port}",
        # SECRET_KEY, TOTP_SEALING_KEYS, SMS_CODE_KEY, PAIRWISE_SALT: one secret per job
        **{f"IDP_{name}": value for name, value in new_secret_values().items()},
        "IDP_DATABASE_URL": database_url,
        "IDP_REDIS_URL": args.redis_url,
        "IDP_STORE_PREFIX": args.store_prefix,
        "IDP_KEYS_DIR": str(tmp / "keys"),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    server = Server(env, port, args.workers, tmp / "server.log", args.threads,
                    args.serve_arg)
    servers = nginx = None
    if args.server_pool:
        from idp.request_lifecycle import NGINX_LOCATIONS

        servers = Server(env, free_port(), args.server_pool, tmp / "servers.log", 1,
                         args.serve_arg)
        nginx = proxy.Nginx(tmp / "nginx", public_port, port, servers=[servers.port],
                            server_locations=NGINX_LOCATIONS)
    elif args.proxy:
        nginx = proxy.Nginx(tmp / "nginx", public_port, port)
    report: dict = {
        "server": f"idp serve --workers {args.workers}"
                  + (f" --threads {args.threads}" if args.threads else "")
                  + f" on 127.0.0.1:{port}"
                  + (f", servers' endpoints and SSO: idp serve --workers {args.server_pool} "
                     f"--threads 1 on 127.0.0.1:{servers.port}" if servers else "")
                  + (f", nginx on {public_port}" if nginx else ""),
        "machine": {"cores": os.cpu_count()}, "concurrency": args.concurrency,
        "duration": args.duration, "warmup": args.warmup, "scenarios": [],
        "database": args.database, "redis": args.redis_url, "store_prefix": args.store_prefix,
    }

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    try:
        keys = run_cli(env, "keys", "generate")
        run_cli(env, "db", "upgrade")
        log(f"keys {keys.get('created')}; schema up to date; {flushed} stale store keys removed")
        t0 = time.monotonic()
        seeded = seed(env, args.accounts)
        analyze(database_url)  # as autovacuum keeps a production database
        log(f"seeded {len(seeded['accounts'])} accounts and client {seeded['client_id']} "
            f"in {time.monotonic() - t0:.1f}s")
        server.start()
        report["server_pid"] = server.proc.pid
        report["gunicorn_worker_pids"] = gunicorn_workers(server.proc.pid)
        log(f"IdP up: pid {server.proc.pid}, workers {report['gunicorn_worker_pids']}, "
            f"log {server.logfile}")
        pids = server.proc.pid
        if servers is not None:
            servers.start()
            pids = (server.proc.pid, servers.proc.pid)
            log(f"servers' pool up: pid {servers.proc.pid}, "
                f"workers {gunicorn_workers(servers.proc.pid)}, log {servers.logfile}")
        if nginx is not None:
            nginx.start()
            log(f"nginx in front on port {public_port}")
        cfg = {"host": "127.0.0.1", "port": public_port, "concurrency": args.concurrency,
               "duration": args.duration, "warmup": args.warmup,
               "max_requests": args.max_requests, "quiet_limit": args.quiet_limit,
               "auth_header": basic_auth(seeded["client_id"], seeded["client_secret"]),
               "wrk_connections": args.wrk_connections if wrk_load.available() else 0,
               "flow_connections": args.flow_connections if wrk_load.available() else 0,
               **seeded}
        for name in only:
            best = None
            for attempt in range(1, args.attempts + 1):
                res = measure(name, cfg, pids, args)
                res["attempt"] = attempt
                if best is None or res["cpu"]["foreign_cores"] < best["cpu"]["foreign_cores"]:
                    best = res
                log(f"({name}) {res['per_second']}/s  p50 {res['p50_ms']} ms  "
                    f"p99 {res['p99_ms']} ms  errors {res['errors']}"
                    + (f"  [other processes used {res['cpu']['foreign_cores']} cores]"
                       if res["contended"] else ""))
                if not res["contended"]:
                    break
                if attempt < args.attempts:
                    log(f"({name}) the machine was shared during the run: measuring again")
            report["scenarios"].append(best)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except BenchError as exc:
        log(f"error: {exc}")
        if server.proc is not None:
            log(f"server log tail:\n{server.tail()}")
        return 1
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        return 1
    finally:
        if args.keep_server and server.proc is not None and server.proc.poll() is None:
            log(f"IdP left running: pid {server.proc.pid} on port {port} "
                f"(stop it with: kill {server.proc.pid})")
        else:
            if nginx is not None:
                nginx.stop()
            for pool in (server, servers):
                if pool is not None:
                    pool.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
