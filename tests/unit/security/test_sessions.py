"""idp/security/sessions.py: the endpoints servers call get no session."""
from __future__ import annotations

import pytest
from flask import request

from idp.security.sessions import NoSession, ServerSession


@pytest.mark.parametrize("path", ["/oidc/token", "/oidc/userinfo", "/oidc/jwks",
                                  "/.well-known/openid-configuration"])
def test_a_servers_endpoint_has_no_session_and_cannot_write_one(app, path):
    with app.test_request_context(path, headers={"Cookie": "idp_session=anything"}):
        opened = app.session_interface.open_session(app, request)
        assert isinstance(opened, NoSession) and app.session_interface.is_null_session(opened)
        assert opened.get("account_id") is None
        with pytest.raises(RuntimeError, match="have no session"):
            opened["account_id"] = 1


def test_a_browser_page_has_its_server_side_session(app):
    with app.test_request_context("/connexion"):
        opened = app.session_interface.open_session(app, request)
        assert isinstance(opened, ServerSession) and opened.new
