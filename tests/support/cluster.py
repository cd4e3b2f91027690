"""The `make cluster` processes for interop tests (scripts/cluster.py's Cluster): two
`idp serve` nodes, each in its own directory, an `idp worker` and nginx in front, on the
test run's PostgreSQL schema and Redis prefix, so the `make` fixture's rows and
`clean_state` apply to them as to the in-process app.

- `cluster` (module-scoped fixture): started once per module, stopped after it; skipped on
  the SQLite run (the cluster runs on PostgreSQL and Redis) and without nginx.
- `NodeTurns`: a requests.Session that sends each request to the next node in turn,
  whatever cluster address the page named: a browser whose every step crosses nodes.
- `From(address)`: a requests adapter whose connections leave from `address` (any
  127/8 address is the loopback), so nginx sees distinct clients.
"""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from scripts.cluster import Cluster
from scripts.reverse_proxy import available as nginx_available

from .served import HttpBrowser, _toml, free_port

# Paths the Cluster gives each process itself (in its own directory).
_NOT_SHARED = {"ISSUER", "STORE_PATH", "DEMO_CLIENTS_FILE"}


def cluster_settings(settings: dict) -> dict[str, str]:
    """The test settings as the cluster's shared IDP_* values."""
    return {key: _toml(value) for key, value in settings.items()
            if value is not None and key not in _NOT_SHARED}


@pytest.fixture(scope="module")
def cluster(settings, tmp_path_factory):
    if not settings["DATABASE_URL"].startswith("postgresql") or not settings.get("REDIS_URL"):
        pytest.skip("the cluster runs on PostgreSQL and Redis (the PostgreSQL + Redis run)")
    if not nginx_available():
        pytest.skip("nginx is not installed (`make cluster` installs nginx-light)")
    running = Cluster(tmp_path_factory.mktemp("cluster"), cluster_settings(settings),
                      port=free_port(), node_ports=[free_port(), free_port()])
    running.start()
    try:
        yield running
    finally:
        running.stop()


class NodeTurns(requests.Session):
    """Each request to the next node in turn (`served`: the node ports, in order)."""

    def __init__(self, cluster: Cluster):
        super().__init__()
        self.ports = [node.port for node in cluster.nodes]
        self.addresses = {cluster.port, *self.ports}
        self.served: list[int] = []

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.hostname == "127.0.0.1" and parts.port in self.addresses:
            port = self.ports[len(self.served) % len(self.ports)]
            self.served.append(port)
            url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))
        return super().request(method, url, *args, **kwargs)


def crossing_browser(cluster: Cluster) -> HttpBrowser:
    browser = HttpBrowser()
    browser.http = NodeTurns(cluster)
    return browser


class From(HTTPAdapter):
    """Connections from a chosen source address."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser_from(address: str) -> HttpBrowser:
    browser = HttpBrowser()
    browser.http.mount("http://", From(address))
    return browser
