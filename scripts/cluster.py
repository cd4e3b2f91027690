"""`make cluster`: two `idp serve` nodes, an `idp worker` and nginx in front of the nodes,
on PostgreSQL and Redis, until Ctrl-C.

    make cluster            # http://127.0.0.1:8000 (CLUSTER_PORT), nodes on 8001 and 8002
    .venv/bin/python scripts/cluster.py --port 8000 [--workers 2] [--no-demo]
    .venv/bin/python scripts/cluster.py idp keys rotate    # any `idp` command, as node1

The nodes share the database, the store and the environment, and nothing else: each
process runs in a directory of its own (under var/cluster/, emptied at each start), and
every setting that names a file (the development secret files, keys/, the embedded store,
config/idp.toml) points inside that directory, where nothing is. So what a node knows
comes from PostgreSQL, Redis and IDP_* alone, as on separate hosts.

IDP_DATABASE_URL and IDP_REDIS_URL (or IDP_REDIS_SENTINELS) are honoured; by default the
local servers: database `idp_cluster` (created when missing) and Redis database 0 under
the prefix `idp-cluster:`. The secrets (IDP_SECRET_KEY, IDP_TOTP_SEALING_KEYS,
IDP_SMS_CODE_KEY, IDP_PAIRWISE_SALT, IDP_KEY_ENCRYPTION_KEY) come from the environment
when set, otherwise from var/cluster/secrets.env, made once and then kept (the keys in
the database are sealed with that key-encryption key): the launcher hands them to every
process in its environment. The issuer is nginx's address; IDP_TRUSTED_PROXIES is 1.

`Cluster` is what tests/interop/test_cluster.py starts, with the test's settings.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from scripts.reverse_proxy import README_HEADERS, Nginx  # noqa: E402

IDP = str(Path(sys.executable).with_name("idp"))
PROBE = "/.well-known/openid-configuration"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/idp_cluster"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
SECRETS = ("SECRET_KEY", "TOTP_SEALING_KEYS", "SMS_CODE_KEY", "PAIRWISE_SALT",
           "KEY_ENCRYPTION_KEY")
# Settings naming a file: each process gets its own (empty) directory's.
_PATH_SETTINGS = {"CONFIG": "idp.toml", "SECRET_KEY_FILE": "secret_key",
                  "TOTP_SEALING_KEYS_FILE": "totp_sealing_keys",
                  "SMS_CODE_KEY_FILE": "sms_code_key", "PAIRWISE_SALT_FILE": "pairwise_salt",
                  "KEY_ENCRYPTION_KEY_FILE": "key_encryption_key", "KEYS_DIR": "keys",
                  "STORE_PATH": "store.sqlite3", "DEMO_CLIENTS_FILE": "demo_clients.json",
                  "METRICS_DIR": "metrics"}  # each node's /metrics counts its own workers

_DECIDED = {"ISSUER", "BASE_URL", "WORKERS", "TRUSTED_PROXIES", *_PATH_SETTINGS}


@dataclass
class Process:
    """One process of the cluster: its name, directory, log and (for a node) port."""
    name: str
    directory: Path
    process: subprocess.Popen
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return (self.directory / "output.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process.poll() is None


class Cluster:
    """Two nodes (or more: `node_ports`), a worker and nginx on `port`, their directories
    under `directory`. `settings`: the IDP_* values every process shares (without the
    prefix: {"DATABASE_URL": ...}); the issuer and the trusted proxy count are added."""

    def __init__(self, directory: Path, settings: dict[str, str], port: int,
                 node_ports: list[int], workers: int = 2, threads: int = 2):
        self.dir = Path(directory)
        self.port, self.node_ports = port, list(node_ports)
        self.workers, self.threads = workers, threads
        self.settings = {**settings, "ISSUER": f"http://127.0.0.1:{port}",
                         "TRUSTED_PROXIES": "1"}
        self.nodes: list[Process] = []
        self.worker: Process | None = None
        self.nginx = Nginx(self.dir / "nginx", port, self.node_ports, headers=README_HEADERS,
                           access_log=True)

    @property
    def url(self) -> str:
        return self.nginx.url

    def environment(self, directory: Path) -> dict[str, str]:
        """The environment of a process living in `directory`: the shared settings, every
        file setting pointing inside `directory`, and no IDP_* inherited."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
        env.update({f"IDP_{k}": str(v) for k, v in self.settings.items() if v is not None})
        env.update({f"IDP_{k}": str(directory / name) for k, name in _PATH_SETTINGS.items()})
        env["PYTHONUNBUFFERED"] = "1"
        # gunicorn (25.1+) opens a control socket in $XDG_RUNTIME_DIR, else ~/.gunicorn/:
        # one per node, in its own directory, not one path every node on the host fights for.
        env["XDG_RUNTIME_DIR"] = str(directory)
        return env

    def idp(self, where: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run `idp ARGS` as the process `where` would (its directory and environment)."""
        directory = self.dir / where
        directory.mkdir(parents=True, exist_ok=True)
        return subprocess.run([IDP, *args], cwd=directory, env=self.environment(directory),
                              capture_output=True, text=True, timeout=timeout)

    def _spawn(self, name: str, args: list[str], port: int | None = None) -> Process:
        directory = self.dir / name  # emptied: nothing of a former run is left to read
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        with (directory / "output.log").open("wb") as log:
            # Its own process group: stopping or killing a node takes its workers too.
            process = subprocess.Popen([IDP, *args], cwd=directory,
                                       env=self.environment(directory), stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        return Process(name, directory, process, port)

    def set_up(self) -> str:
        """The schema and the signing keys (`idp keys generate`, once for all nodes)."""
        done = self.idp("setup", "keys", "generate")
        if done.returncode:
            why = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["?"]
            raise RuntimeError(f"idp keys generate: {why[0].removeprefix('error: ')}")
        return done.stdout.strip()

    def start(self, timeout: float = 60) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        for n, port in enumerate(self.node_ports, 1):
            self.nodes.append(self._spawn(f"node{n}", self._serve(port), port))
        self.worker = self._spawn("worker", ["worker"])
        try:
            for node in self.nodes:
                self._wait_ready(node, timeout)
            self.nginx.start()
        except Exception:
            self.stop()
            raise

    def _serve(self, port: int) -> list[str]:
        return ["serve", "--workers", str(self.workers), "--threads", str(self.threads),
                "--bind", f"127.0.0.1:{port}"]

    def start_node(self, name: str, timeout: float = 60) -> Process:
        """Start a stopped or killed node again (its directory emptied), once it answers."""
        position = self.nodes.index(self.node(name))
        port = self.nodes[position].port
        self.nodes[position] = self._spawn(name, self._serve(port), port)
        self._wait_ready(self.nodes[position], timeout)
        return self.nodes[position]

    def _wait_ready(self, node: Process, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not node.alive():
                raise RuntimeError(f"{node.name} exited with {node.process.returncode}:\n"
                                   f"{node.log_tail()}")
            try:
                if requests.get(node.url + PROBE, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{node.name} did not answer in {timeout}s:\n{node.log_tail()}")

    def node(self, name: str) -> Process:
        return next(p for p in self.nodes if p.name == name)

    def kill(self, name: str) -> None:
        """SIGKILL a node and its workers (a host lost, nothing said to anyone)."""
        node = self.node(name)
        os.killpg(node.process.pid, signal.SIGKILL)
        node.process.wait(timeout=10)

    def dead(self) -> list[Process]:
        return [p for p in [*self.nodes, self.worker] if p is not None and not p.alive()]

    def stop(self) -> None:
        self.nginx.stop()
        for process in [*self.nodes, self.worker]:
            if process is None or not process.alive():
                continue
            os.killpg(process.process.pid, signal.SIGTERM)
        for process in [*self.nodes, self.worker]:
            if process is None:
                continue
            try:
                process.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.process.pid, signal.SIGKILL)
                process.process.wait(timeout=5)


# -- make cluster ---------------------------------------------------------------------
def _secrets(state: Path) -> dict[str, str]:
    """The shared secrets: the environment's, else var/cluster/secrets.env (made once)."""
    from idp.keys.sealing import new_key_encryption_key
    from idp.secret_settings import new_values

    kept = {}
    if state.exists():
        for line in state.read_text().splitlines():
            name, _, value = line.partition("=")
            if name and value:
                kept[name] = value
    missing = [name for name in SECRETS if name not in kept]
    if missing:
        fresh = {**new_values(), "KEY_ENCRYPTION_KEY": new_key_encryption_key()}
        kept.update({name: fresh[name] for name in missing})
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text("".join(f"{name}={kept[name]}\n" for name in SECRETS))
        state.chmod(0o600)
    return {name: os.environ.get(f"IDP_{name}") or kept[name] for name in SECRETS}


def _ensure_database(url: str) -> None:
    """Create the default cluster database on the local server when missing."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def cluster_settings(state: Path) -> dict[str, str]:
    """What every process of `make cluster` shares: the caller's IDP_* settings, but those
    the cluster decides (its issuer, the files of each process's own directory), the
    secrets, and the local servers by default."""
    settings = {name[4:]: value for name, value in os.environ.items()
                if name.startswith("IDP_") and name[4:] not in _DECIDED}
    settings.update(_secrets(state / "secrets.env"))
    settings.setdefault("DATABASE_URL", DEFAULT_DATABASE)
    if not settings.get("REDIS_SENTINELS"):
        settings.setdefault("REDIS_URL", DEFAULT_REDIS)
    settings.setdefault("STORE_PREFIX", "idp-cluster:")
    settings.setdefault("DEV_OUTBOX", "true")  # emails and SMS on /dev/outbox, as make run
    return settings


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    state = ROOT / "var" / "cluster"
    if argv[:1] == ["idp"]:  # `scripts/cluster.py idp keys rotate`: a command as node1
        port = int(os.environ.get("CLUSTER_PORT", 8000))
        cluster = Cluster(state, cluster_settings(state), port, [port + 1, port + 2])
        done = cluster.idp("node1", *argv[1:], timeout=3600)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        return done.returncode
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT", 8000)))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument("--no-demo", dest="demo", action="store_false",
                        help="do not load the demo data (accounts, relying parties)")
    args = parser.parse_args(argv)
    settings = cluster_settings(state)
    cluster = Cluster(state, settings, args.port, [args.port + 1, args.port + 2],
                      workers=args.workers)
    try:
        if settings["DATABASE_URL"] == DEFAULT_DATABASE:
            _ensure_database(DEFAULT_DATABASE)
        print(cluster.set_up())
    except Exception as exc:  # noqa: BLE001 - one line, as every idp command
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        print(f"error: {lines[-1]}", file=sys.stderr)
        return 1
    if args.demo:
        done = cluster.idp("setup", "demo", "load")
        print(done.stdout.strip() if done.returncode == 0 else "demo: " + done.stderr.strip())
    stopping = []
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a kill
        signal.signal(stop_signal, lambda *_: stopping.append(1))
    try:
        cluster.start()
        print(f"cluster on {cluster.url} (nginx, round-robin) -- nodes "
              + ", ".join(f"{n.name} {n.url}" for n in cluster.nodes)
              + f" -- worker -- each in {state}/<name>, logs there (output.log); "
              f"nginx access log {cluster.nginx.tmp / 'access.log'}; Ctrl-C stops them all")
        while not stopping and not cluster.dead():
            time.sleep(0.5)
        for process in cluster.dead():
            print(f"{process.name} exited with {process.process.returncode}:\n"
                  f"{process.log_tail()}", file=sys.stderr)
            return 1
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
