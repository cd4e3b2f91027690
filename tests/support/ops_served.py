"""`idp serve` as production runs it, for the operations tests (issue 16): a threaded
pool (`ops_idp`) and the sync pool of README "Two pools" (`ops_servers_pool`), both at
DEBUG with JSON logs, a metrics directory and one trusted proxy; `nginx_site`, the
shipped deploy/nginx/idp.conf in front of them. Used by tests/interop/test_ops_served.py
and test_nginx_site.py."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from idp.config import PROJECT_ROOT
from tests.support.served import _run, free_port, settings_env


def _serve(settings, base, port: int, issuer_port: int, *options: str):
    env = settings_env(settings, ISSUER=f"http://127.0.0.1:{issuer_port}", LOG_LEVEL="DEBUG",
                       METRICS_DIR=str(base / "metrics"), TRUSTED_PROXIES=1)
    cmd = [sys.executable, "-c", "from idp.cli import main; main()", "serve",
           "--workers", "2", "--bind", f"127.0.0.1:{port}", *options]
    return _run(cmd, env, port, "/healthz", base / f"serve-{port}.log")


@pytest.fixture(scope="module")
def ops_idp(settings, tmp_path_factory):
    base = tmp_path_factory.mktemp("ops")
    port = free_port()
    with _serve(settings, base, port, port) as server:
        server.metrics_dir = base / "metrics"
        yield server


@pytest.fixture(scope="module")
def ops_servers_pool(settings, ops_idp):
    """The second pool of README "Two pools": sync workers, same settings and issuer."""
    with _serve(settings, ops_idp.metrics_dir.parent, free_port(), ops_idp.port,
                "--threads", "1") as pool:
        yield pool


def log_lines(server) -> list[str]:
    """The lines `idp serve` wrote (JSON, one per line)."""
    return [l for l in server.log_path.read_text(errors="replace").splitlines() if l.strip()]


def pool_of(request_id: str, **pools) -> set[str]:
    """The names of the pools whose log has this request id."""
    return {name for name, pool in pools.items()
            if any(json.loads(l).get("request_id") == request_id for l in log_lines(pool))}


def self_signed(directory) -> tuple[str, str]:
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "connexion.example.fr")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@contextmanager
def nginx_site(web_port: int, servers_port: int, tmp: Path):
    """deploy/nginx/idp.conf as shipped, but for its names: its two pools on these ports of
    127.0.0.1, a self-signed certificate, and no `allow 127.0.0.1` (the tests play a remote
    client). Yields its https and http base URLs and its directory (the access log)."""
    if shutil.which("nginx") is None:
        pytest.skip("no nginx (make test installs nginx-light)")
    cert, key = self_signed(tmp)
    https, http = free_port(), free_port()
    site = (PROJECT_ROOT / "deploy" / "nginx" / "idp.conf").read_text()
    for old, new in (("127.0.0.1:8000", f"127.0.0.1:{web_port}"),
                     ("127.0.0.1:8001", f"127.0.0.1:{servers_port}"),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
                     ("listen [::]:443 ssl http2;", ""),
                     ("listen 80;", f"listen 127.0.0.1:{http};"), ("listen [::]:80;", ""),
                     ("/etc/letsencrypt/live/connexion.example.fr/fullchain.pem", cert),
                     ("/etc/letsencrypt/live/connexion.example.fr/privkey.pem", key),
                     ("/var/log/nginx/idp.access.log", str(tmp / "access.log")),
                     ("allow 127.0.0.1;", "")):
        assert old in site, old
        site = site.replace(old, new)
    temps = "\n".join(f"{k}_temp_path {tmp}/{k};" for k in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp / "nginx.conf"
    conf.write_text(f"worker_processes 1;\npid {tmp}/nginx.pid;\n"
                    f"error_log {tmp}/error.log warn;\nevents {{}}\n"
                    f"http {{\n{temps}\n{site}\n}}\n")
    process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp), "-e",
                                str(tmp / "error.log"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"https://127.0.0.1:{https}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/healthz", verify=False, timeout=1)
                break
            except requests.RequestException:
                assert process.poll() is None, (tmp / "error.log").read_text()
                time.sleep(0.05)
        yield {"https": base, "http": f"http://127.0.0.1:{http}", "tmp": tmp}
    finally:
        process.terminate()
        process.wait(timeout=10)
