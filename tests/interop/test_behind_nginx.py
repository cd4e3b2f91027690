"""A gunicorn IdP behind a real nginx configured as the README says (IDP_TRUSTED_PROXIES=1):
the audit row and the recovery limit name the address nginx saw, never nginx's own
(127.0.0.1) and never an X-Forwarded-For the client forged. The client connects from
127.0.0.5 (any 127/8 address is the loopback) so that the two differ."""
from __future__ import annotations

import pytest
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent

from ..support.served import HttpBrowser, serve_idp
from scripts.reverse_proxy import Nginx, available, free_port


CLIENT = "127.0.0.5"
README_LINES = ["proxy_set_header X-Forwarded-For $remote_addr;",
                "proxy_set_header X-Forwarded-Proto $scheme;",
                "proxy_set_header Host $host;"]
# The other common form: nginx appends the peer to whatever the client sent.
APPENDING = ["proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", *README_LINES[1:]]


class _From(HTTPAdapter):
    """Connections from a chosen source address."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="module")
def behind_one_proxy(settings, tmp_path_factory):
    with serve_idp(settings, tmp_path_factory.mktemp("nginx"), TRUSTED_PROXIES=1) as idp:
        yield idp


@pytest.mark.parametrize("directives", [README_LINES, APPENDING], ids=["readme", "appending"])
def test_audit_and_limits_see_the_address_nginx_saw(app, behind_one_proxy, directives,
                                                    tmp_path):
    if not available():
        pytest.skip("nginx is not installed (`make interop-deps` installs nginx-light)")
    with Nginx(tmp_path / "nginx", free_port(), behind_one_proxy.port,
               headers=tuple(directives)) as nginx:
        browser = HttpBrowser()
        browser.http.mount("http://", _From(CLIENT))
        browser.http.headers["X-Forwarded-For"] = "6.6.6.6"  # forged by the client
        page = browser.open(nginx.url + "/recuperation/identifiant")
        assert page.status_code == 200
        answer = browser.submit({"email": "famille@example.org"})
        assert answer.status_code == 200 and "Consultez vos messages" in answer.text
    with app.app_context():
        ips = db.session.scalars(select(AuditEvent.ip).where(
            AuditEvent.action == "identifier_recovery")).all()
    assert ips == [CLIENT]
    store = app.extensions["idp"]["store"]
    assert store.get(f"recovery-ip:{CLIENT}") == 1
    assert store.get("recovery-ip:6.6.6.6") is None and store.get("recovery-ip:127.0.0.1") is None
