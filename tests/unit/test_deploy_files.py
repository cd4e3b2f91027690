"""deploy/ (issue 16, point 6): the systemd units pass `systemd-analyze verify` and run
the commands this code has; the nginx site keeps /metrics and /readyz off the public side
(tests/interop/test_ops_served.py serves the site itself in front of `idp serve`)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from idp.cli import main
from idp.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
UNITS = ("idp-web.service", "idp-servers.service", "idp-worker.service")


def _unit(name: str) -> str:
    return (DEPLOY / "systemd" / name).read_text()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_units_verify(tmp_path):
    paths = []
    for name in UNITS:
        text = _unit(name).replace("/opt/idp", str(PROJECT_ROOT)).replace(
            "/etc/idp/idp.env", str(DEPLOY / "idp.env.example"))
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    result = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_units_run_existing_commands_and_share_the_metrics_directory():
    for name, command in (("idp-web.service", "serve"), ("idp-servers.service", "serve"),
                          ("idp-worker.service", "worker")):
        text = _unit(name)
        start = re.search(r"^ExecStart=/opt/idp/\.venv/bin/idp (\S+)", text, re.M).group(1)
        assert start == command and command in main.commands
        assert "Environment=IDP_METRICS_DIR=/run/idp/metrics" in text
        assert "RuntimeDirectoryPreserve=yes" in text
        assert "EnvironmentFile=/etc/idp/idp.env" in text
    assert "--bind 127.0.0.1:8000" in _unit("idp-web.service")  # only nginx reaches them
    assert "--threads 1 --bind 127.0.0.1:8001" in _unit("idp-servers.service")  # sync


def test_the_env_example_names_only_known_settings():
    from idp.config import DEFAULTS

    for line in (DEPLOY / "idp.env.example").read_text().splitlines():
        if line.startswith("IDP_"):
            key = line.split("=", 1)[0][4:]
            assert key in DEFAULTS, key


def test_nginx_keeps_operator_endpoints_private():
    site = (DEPLOY / "nginx" / "idp.conf").read_text()
    for path in ("/metrics", "/readyz"):
        block = re.search(r"location = %s \{(.*?)\}" % re.escape(path), site, re.S).group(1)
        assert "deny all;" in block
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "proxy_set_header X-Request-Id $request_id;" in site
    assert '"path":"$uri"' in site  # no query string in the proxy's log


def test_nginx_sends_the_servers_endpoints_to_their_pool():
    from idp.request_lifecycle import NGINX_LOCATIONS, SERVER_PATHS, SSO_PATHS, WELL_KNOWN

    site = (DEPLOY / "nginx" / "idp.conf").read_text()
    routed = re.findall(r"location (\S+ \S+) \{ proxy_pass http://idp_servers; \}", site)
    assert routed == list(NGINX_LOCATIONS)
    assert "server 127.0.0.1:8001;" in site
    # The sync pool down, its paths fall back to the threaded one rather than a 502.
    servers = re.search(r"upstream idp_servers \{(.*?)\}", site, re.S).group(1)
    assert "server 127.0.0.1:8000 backup;" in servers
    assert NGINX_LOCATIONS == (*(f"= {p}" for p in sorted(SERVER_PATHS | SSO_PATHS)),
                               f"^~ {WELL_KNOWN}")
    assert {"= /oidc/authorize", "= /saml/sso/redirect", "= /saml/sso/post"} <= set(
        NGINX_LOCATIONS)  # a signed-in family's single sign-on stays on that pool
