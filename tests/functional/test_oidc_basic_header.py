"""A malformed HTTP Basic header on the token, introspection and revocation endpoints is a
failed client authentication (401 invalid_client, JSON), never a 500: credentials that are
not UTF-8, not base64, without a colon, or a bare `Basic`."""
from __future__ import annotations

import base64

import pytest

MALFORMED = {
    "not UTF-8": "Basic //46/w==",
    "not base64": "Basic ¡no-base64!",
    "base64 with junk": "Basic ZW50OnNlY3JldA==$$",
    "without a colon": "Basic " + base64.b64encode(b"ent-without-secret").decode(),
    "a bare scheme": "Basic",
    "a scheme and spaces": "Basic    ",
    "bad percent-encoding": "Basic " + base64.b64encode(b"%ff%fe:secret").decode(),
}
ENDPOINTS = {
    "/oidc/token": {"grant_type": "authorization_code", "code": "c",
                    "redirect_uri": "https://ent.example/callback"},
    "/oidc/introspect": {"token": "t"},
    "/oidc/revoke": {"token": "t"},
}


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("header", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_basic_header_is_invalid_client(client, rp, path, header):
    answer = client.post(path, data={**ENDPOINTS[path], "client_id": rp.client_id},
                         headers={"Authorization": header})
    assert answer.status_code == 401, answer.text[:300]
    assert answer.json["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("header", MALFORMED.values(), ids=MALFORMED.keys())
def test_userinfo_with_a_malformed_basic_header_asks_for_a_bearer_token(client, header):
    answer = client.get("/oidc/userinfo", headers={"Authorization": header})
    assert answer.status_code == 401 and answer.json["error"] in ("invalid_token",
                                                                  "invalid_request")


def test_a_well_formed_basic_header_still_authenticates(client, rp, flow, parent):
    tokens = flow.tokens_for(rp, parent)
    credentials = base64.b64encode(f"{rp.client_id}:{rp.client_secret}".encode()).decode()
    answer = client.post("/oidc/introspect", data={"token": tokens["access_token"]},
                         headers={"Authorization": "Basic " + credentials})
    assert answer.status_code == 200 and answer.json["active"] is True
    wrong = base64.b64encode(f"{rp.client_id}:not-the-secret".encode()).decode()
    refused = client.post("/oidc/introspect", data={"token": tokens["access_token"]},
                          headers={"Authorization": "Basic " + wrong})
    assert refused.status_code == 401 and refused.json["error"] == "invalid_client"
