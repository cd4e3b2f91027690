from __future__ import annotations

import pytest

from ..support.oidc import authorize_params, pkce_pair, query


@pytest.fixture
def rp(make):
    """A confidential RP (client_secret_basic) with one redirect URI and back-channel off."""
    return make.oidc_client(redirect_uris=["https://ent.example/callback"],
                            post_logout_redirect_uris=["https://ent.example/"])


@pytest.fixture
def parent(make):
    return make.account(with_pupils=1)


class Flow:
    """Drives authorize -> sign-in -> code -> token for one RP and one browser."""

    def __init__(self, browser, client):
        self.browser = browser
        self.client = client

    def authorize(self, rp, **extra):
        self.verifier, challenge = pkce_pair()
        params = authorize_params(rp, challenge=challenge, **extra)
        return self.browser.get("/oidc/authorize", query_string=params)

    def code_for(self, rp, account, **extra):
        """Run the whole front channel (the one sign-in driver, no step page expected)
        and return the query of the redirect to the RP."""
        page = self.browser.sign_in(account, start=self.authorize(rp, **extra))
        assert page.status_code == 302, page.text[:500]
        assert page.location.startswith(rp.redirect_uri), page.location
        return query(page.location)

    def token(self, rp, code, **extra):
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": rp.redirect_uri, "code_verifier": self.verifier, **extra}
        return self.client.post("/oidc/token", data=data,
                                auth=(rp.client_id, rp.client_secret) if rp.client_secret else None)

    def tokens_for(self, rp, account, **extra):
        response = self.token(rp, self.code_for(rp, account, **extra)["code"])
        assert response.status_code == 200, response.json
        return response.json


@pytest.fixture
def flow(browser, client):
    return Flow(browser, client)


@pytest.fixture
def gating(app, tmp_path):
    """J5 helpers: gating.charter(...), gating.notice(...), gating.untrust(rp), rows."""
    from ..support.gating import Gating

    return Gating(app, tmp_path)
