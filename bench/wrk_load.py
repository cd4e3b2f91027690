"""Run wrk (a C HTTP load generator, Debian package `wrk`) and read its report.

The Python load generator of oidc_bench.py costs more CPU per request than the IdP's
cheapest endpoints, on the same 2 cores: for those, wrk drives the load instead.
"""
from __future__ import annotations

import re
import resource
import shutil
import subprocess

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def available() -> str | None:
    return shutil.which("wrk")


def _seconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * UNITS[unit]


def run(url: str, script: str, args: list[str], *, connections: int, duration: float,
        timeout: float = 10.0) -> dict:
    """wrk on one thread (the IdP needs the other core more) with `connections` open."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s",
           f"--timeout={timeout:g}s", "--latency", "-s", script, url, "--", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr.strip()[-500:]}")
    text = out.stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if done is None:
        raise RuntimeError(f"unexpected wrk output: {text[-500:]}")
    requests, seconds = int(done.group(1)), _seconds(done.group(2) + done.group(3))
    latency = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+(?:us|ms|s|m))$", text, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return {"requests": requests, "seconds": seconds, "per_second": requests / seconds,
            "p50": _seconds(latency["50"]) if "50" in latency else None,
            "p99": _seconds(latency["99"]) if "99" in latency else None,
            "errors": errors, "report": text,
            # wrk's own CPU (it has exited before the bench's next /proc snapshot)
            "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def account_cpu(cpu: dict, out: dict, wall: float) -> None:
    """Move wrk's CPU from "other users" to the load generator in a cpu_split report."""
    cores = out["cpu_seconds"] / wall if wall > 0 else 0.0
    cpu["loadgen_cores"] = round(cpu["loadgen_cores"] + cores, 2)
    cpu["foreign_cores"] = round(max(0.0, cpu["foreign_cores"] - cores), 2)
