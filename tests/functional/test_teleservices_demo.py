"""Issue 21, point 2: the demo Téléservices (SAML) can be used from a real browser (its
Content-Security-Policy lets its forms' redirects reach the IdP), and a SAML service
provider is listed in "Mes services" like the OIDC ones. The browser leg is in
tests/e2e/test_journeys.py."""
from __future__ import annotations

import re

from clients.teleservices import create_app


def test_the_teleservices_forms_may_redirect_to_the_idp():
    app = create_app("http://127.0.0.1:5003", "https://idp.example:8443")
    policy = app.test_client().get("/").headers["Content-Security-Policy"]
    form_action = re.search(r"form-action ([^;]+)", policy).group(1).split()
    assert form_action == ["'self'", "https://idp.example:8443"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_a_saml_service_is_in_mes_services(browser, make):
    make.oidc_client(name="ENT", redirect_uris=["https://ent.example/callback"])
    make.saml_sp(entity_id="https://teleservices.example/sp", name="Téléservices")
    browser.sign_in(make.account())
    page = browser.get("/")
    services = re.search(r'<ul class="services">(.*?)</ul>', page.text, re.S).group(1)
    assert 'href="https://teleservices.example/">Téléservices</a>' in services
    assert 'href="https://ent.example/">ENT</a>' in services
