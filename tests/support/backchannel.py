"""A relying party with a back-channel logout endpoint: a real local HTTP server that
keeps every body POSTed to it (`BackchannelReceiver.received`). Test modules import the
`backchannel_rp` fixture."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest


class BackchannelReceiver(BaseHTTPRequestHandler):
    received: list[str] = []

    def do_POST(self):
        BackchannelReceiver.received.append(
            self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def backchannel_rp(make):
    """An OIDC client "ENT" whose back-channel logout URI is the local receiver."""
    server = HTTPServer(("127.0.0.1", 0), BackchannelReceiver)
    BackchannelReceiver.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rp = make.oidc_client(name="ENT", redirect_uris=["https://ent.example/callback"],
                          backchannel_logout_uri=f"http://127.0.0.1:{server.server_port}/bc")
    yield rp
    server.shutdown()
