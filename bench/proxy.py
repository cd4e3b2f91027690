"""nginx in front of `idp serve`, as in production (TLS left out): the clients keep their
connections alive to nginx, and nginx opens a short connection to the workers for each
request (no upstream `keepalive`), which the kernel spreads over the worker processes.

Used by oidc_bench.py and saml_bench.py with `--proxy` (Debian package `nginx-light`,
which `make bench` installs)."""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

CONFIG = """\
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 100000;
    upstream idp {{ server 127.0.0.1:{upstream}; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://idp;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
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
    """nginx listening on `port`, proxying to 127.0.0.1:`upstream`."""

    def __init__(self, tmp: Path, port: int, upstream: int):
        self.tmp, self.port, self.upstream = tmp, port, upstream
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        conf = self.tmp / "nginx.conf"
        conf.write_text(CONFIG.format(tmp=self.tmp, port=self.port, upstream=self.upstream))
        self.proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(self.tmp)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start: " + self.error_log())

    def error_log(self) -> str:
        try:
            return (self.tmp / "nginx-error.log").read_text()[-1000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
