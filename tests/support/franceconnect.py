"""The FranceConnect stand-in (clients/franceconnect.py) as a real process, and an IdP
under gunicorn configured for it: `franceconnect_idp` (module scope) starts both on free
ports; `FranceConnectFamily` drives a parent's browser (HttpBrowser) through the button,
the stand-in's identity page and the first-link pages, reading the SMS from the outbox.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from clients.franceconnect import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

from .served import HttpBrowser, Served, _Forms, _run, free_port, serve_idp
from .signup import last_code

NADIA_PHONE = "+33612345678"
REAUTH_SECONDS = 2
NADIA_DATES = (("yes", "12", "10", "2013"), ("yes", "04", "07", "2010"))  # Yanis, Sarah


@contextmanager
def serve_franceconnect(port: int, redirect_prefix: str, log_dir, slow_seconds: float = 3):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update(FC_REDIRECT_PREFIX=redirect_prefix, FC_SLOW_SECONDS=str(slow_seconds),
               PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "clients.franceconnect", "--port", str(port)]
    with _run(cmd, env, port, "/api/v2/.well-known/openid-configuration",
              log_dir / f"franceconnect-{port}.log") as served:
        yield served


@dataclass
class FranceConnectSetup:
    idp: Served
    fc: Served

    def switch(self, mode: str) -> None:
        response = requests.post(self.fc.url + "/switches", json={"mode": mode}, timeout=5)
        assert response.json() == {"mode": mode}

    def stats(self) -> dict:
        return requests.get(self.fc.url + "/stats", timeout=5).json()

    def rotate(self) -> None:
        requests.post(self.fc.url + "/rotate", timeout=5).raise_for_status()

    def logouts(self) -> list[dict]:
        return requests.get(self.fc.url + "/logouts", timeout=5).json()


@pytest.fixture(scope="module")
def franceconnect_idp(settings, tmp_path_factory):
    """The stand-in and an IdP (gunicorn) configured for it, on free ports."""
    with franceconnect_and_idp(settings, tmp_path_factory.mktemp("franceconnect")) as setup:
        yield setup


@contextmanager
def franceconnect_and_idp(settings, log_dir, **overrides):
    """The stand-in and an IdP for it (`overrides`: more of the IdP's settings)."""
    idp_port, fc_port = free_port(), free_port()
    idp_url, fc_url = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{fc_port}"
    with serve_franceconnect(fc_port, idp_url, log_dir) as fc:
        with serve_idp(settings, log_dir, port=idp_port, FRANCECONNECT_ENABLED=True,
                       FRANCECONNECT_DISCOVERY_URL=fc_url
                       + "/api/v2/.well-known/openid-configuration",
                       FRANCECONNECT_CLIENT_ID=DEFAULT_CLIENT_ID,
                       FRANCECONNECT_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
                       FRANCECONNECT_TIMEOUT=1,
                       # Short, so that a test sees "Mon compte" ask again (2 s sleep).
                       REAUTH_WINDOW_SECONDS=REAUTH_SECONDS, **overrides) as idp:
            setup = FranceConnectSetup(idp, fc)
            yield setup
            setup.switch("ok")


def form_index(page, action_end: str) -> int:
    forms = _Forms(page.text).forms
    for n, form in enumerate(forms):
        if form["action"].endswith(action_end):
            return n
    raise AssertionError(f"no form posting to {action_end} on {page.url}:\n{page.text[:1500]}")


class FranceConnectFamily:
    """A parent's browser over real HTTP."""

    def __init__(self, app, setup: FranceConnectSetup, browser: HttpBrowser | None = None):
        self.app, self.setup = app, setup
        self.browser = browser or HttpBrowser()

    @property
    def path(self) -> str:
        return urlsplit(self.browser.url).path

    def choose_parent(self):
        self.browser.open(self.setup.idp.url + "/choisir-profil")
        return self.browser.submit({"profile": "parent", "academy": "nancy-metz"})

    def click_button(self, stop_at: str | None = None):
        """On the IdP's sign-in page: « S'identifier avec FranceConnect »."""
        page = self.browser.page
        return self.browser.submit(index=form_index(page, "/franceconnect/connexion"),
                                   stop_at=stop_at)

    def pick(self, identity: str = "nadia", stop_at: str | None = None):
        """On the stand-in's page: an identity, « Continuer »."""
        assert self.browser.url.startswith(self.setup.fc.url), self.browser.url
        return self.browser.submit({"identity": identity, "action": "continue"},
                                   stop_at=stop_at)

    def sign_in(self, identity: str = "nadia", stop_at: str | None = None):
        """From nothing to FranceConnect's answer processed by the IdP."""
        self.choose_parent()
        self.click_button()
        return self.pick(identity, stop_at=stop_at)

    def first_link(self, phone: str = "06 12 34 56 78", dates=NADIA_DATES,
                   sms_phone: str = NADIA_PHONE):
        assert self.path == "/franceconnect/telephone", (self.browser.url,
                                                         self.browser.page.text[:800])
        self.browser.submit({"phone": phone, "region": "FR"})
        assert self.path == "/franceconnect/code", self.browser.page.text[:800]
        self.browser.submit({"code": last_code(self.app, sms_phone)})
        assert self.path == "/franceconnect/eleves", self.browser.page.text[:800]
        data = {}
        for n, (link, day, month, year) in enumerate(dates):
            data.update({f"link_{n}": link, f"day_{n}": day, f"month_{n}": month,
                         f"year_{n}": year})
        return self.browser.submit(data)

    def open(self, path: str):
        return self.browser.open(urljoin(self.setup.idp.url, path))
