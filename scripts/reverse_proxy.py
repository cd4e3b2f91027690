"""nginx in front of `idp serve` nodes, as in production (TLS left out): the clients keep
their connections alive to nginx, and nginx opens a short connection to a node for each
request (no upstream `keepalive`), which the kernel spreads over the node's workers.
Several nodes are served round-robin; a node that refuses connections is skipped (nginx's
`proxy_next_upstream error timeout`, its default: an idempotent request, or one not yet
sent, goes to the next node; a POST a node was killed in the middle of answers 502).

A second pool (`servers`, `server_locations`): the endpoints relying parties' servers
call (token, userinfo, JWKS, discovery...) and the single sign-on go to workers of their
own, as in deploy/nginx/idp.conf (README "En production", "Two pools").

Used by the benches (bench/proxy.py, `--proxy`) and by `make cluster` and its tests
(scripts/cluster.py). Debian package `nginx-light`.
"""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

# What the benches send (the address only: one proxy, IDP_TRUSTED_PROXIES=1).
BENCH_HEADERS = ("proxy_set_header Host $http_host;",
                 "proxy_set_header X-Forwarded-For $remote_addr;")
# What the README's "Behind a reverse proxy" says, with the port kept in Host (a local
# cluster listens on a port of its own).
README_HEADERS = ("proxy_set_header X-Forwarded-For $remote_addr;",
                  "proxy_set_header X-Forwarded-Proto $scheme;",
                  "proxy_set_header Host $http_host;")

CONFIG = """\
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    log_format nodes '$remote_addr "$request" $status $upstream_addr';
    {access_log};
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 100000;
    upstream idp {{
{servers}
    }}
{pool}    server {{
        listen 127.0.0.1:{port};
{locations}        location / {{
            proxy_pass http://idp;
{headers}
        }}
    }}
}}
"""


def available() -> bool:
    return shutil.which("nginx") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Nginx:
    """nginx listening on 127.0.0.1:`port`, proxying to 127.0.0.1:`upstream` (a port, or
    a list of ports served round-robin). `access_log`: one line per request in
    `tmp`/access.log, naming the node that answered (`$upstream_addr`). `servers`: the
    ports of a second pool, which answers the paths of `server_locations` (nginx
    location arguments: "= /oidc/token", "^~ /.well-known/")."""

    def __init__(self, tmp: Path, port: int, upstream: int | list[int],
                 headers: tuple[str, ...] = BENCH_HEADERS, access_log: bool = False,
                 servers: list[int] = (), server_locations: tuple[str, ...] = ()):
        self.tmp, self.port = Path(tmp), port
        self.upstreams = [upstream] if isinstance(upstream, int) else list(upstream)
        self.upstream = self.upstreams[0]
        self.headers, self.access_log = headers, access_log
        self.servers, self.server_locations = list(servers), tuple(server_locations)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        servers = "\n".join(f"        server 127.0.0.1:{p};" for p in self.upstreams)
        access = f"access_log {self.tmp}/access.log nodes" if self.access_log else "access_log off"
        headers = "\n".join(f"            {h}" for h in self.headers)
        pool = locations = ""
        if self.servers:
            pool = "    upstream idp_servers {\n" + "".join(
                f"        server 127.0.0.1:{p};\n" for p in self.servers) + "    }\n"
            locations = "".join(
                f"        location {where} {{\n            proxy_pass http://idp_servers;\n"
                f"{headers}\n        }}\n" for where in self.server_locations)
        return CONFIG.format(tmp=self.tmp, port=self.port, servers=servers, access_log=access,
                             headers=headers, pool=pool, locations=locations)

    def start(self, timeout: float = 10) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        conf = self.tmp / "nginx.conf"
        conf.write_text(self.config())
        self.proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(self.tmp),
                                      "-e", str(self.tmp / "nginx-error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx did not start: " + self.error_log())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start: " + self.error_log())

    def __enter__(self) -> "Nginx":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def error_log(self) -> str:
        try:
            return (self.tmp / "nginx-error.log").read_text()[-1000:]
        except OSError:
            return ""

    def access_lines(self) -> list[str]:
        try:
            return (self.tmp / "access.log").read_text().splitlines()
        except OSError:
            return []

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
