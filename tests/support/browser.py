"""A browser-like wrapper around Flask's test client: follows our redirects, reads the
CSRF token of the page it is on and submits real forms."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

from . import signin

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
INPUT = re.compile(r"<input\b[^>]*>")
ATTR = re.compile(r'([a-z-]+)="([^"]*)"')


def hidden_fields(html: str) -> dict:
    """The hidden inputs of a page (name -> value), whatever the attribute order."""
    fields = {}
    for tag in INPUT.findall(html):
        attrs = dict(ATTR.findall(tag))
        if attrs.get("type") == "hidden" and attrs.get("name"):
            fields[attrs["name"]] = unescape(attrs.get("value", ""))
    return fields


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def browser_from(app, ip: str) -> "Browser":
    """A browser of its own (a fresh test client: no cookie) whose requests come from `ip`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return Browser(client)


class Browser:
    def __init__(self, client, host: str = "localhost"):
        self.client = client
        self.host = host
        self.page = None

    def _local(self, location: str) -> str | None:
        parts = urlsplit(location)
        if parts.netloc and parts.netloc != self.host:
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def follow(self, response, limit: int = 15):
        """Follow redirects that stay on the IdP; stop at a page or an external target."""
        for _ in range(limit):
            if response.status_code not in (301, 302, 303, 307) or not response.location:
                break
            local = self._local(response.location)
            if local is None:
                break
            response = self.client.get(local)
        self.page = response
        return response

    def get(self, url: str, follow: bool = True, **kwargs):
        response = self.client.get(url, **kwargs)
        return self.follow(response) if follow else response

    def submit(self, url: str, data: dict, follow: bool = True, page_html: str | None = None):
        """POST a form with the CSRF token of the current page (or of `url` fetched first)."""
        html = page_html or (self.page.text if self.page is not None and
                             CSRF.search(self.page.text) else self.client.get(url).text)
        response = self.client.post(url, data={"csrf_token": csrf_token(html), **data})
        return self.follow(response) if follow else response

    def submit_page(self, data: dict | None = None, follow: bool = True):
        """Submit the step form of the current page as a family would: its hidden fields
        (CSRF token, the step's binding) plus `data`, posted to the page's own URL."""
        page = self.page
        fields = hidden_fields(page.text)
        fields.update(data or {})
        url = page.request.path + (f"?{page.request.query_string.decode()}"
                                   if page.request.query_string else "")
        response = self.client.post(url, data=fields)
        return self.follow(response) if follow else response

    # The two calls tests.support.signin.walk drives a browser with.
    def where(self) -> str | None:
        """The path of the IdP page on screen, None after a redirect away or an error."""
        page = self.page
        return page.request.path if page is not None and page.status_code == 200 else None

    def answer(self, path: str, fields: dict) -> None:
        if path in (signin.WAYF, signin.SIGN_IN):
            self.submit(path, fields)  # the form posts to the bare path
        else:
            self.submit_page(fields)

    def through_steps(self, consent: bool = True, seen: list | None = None, **answers):
        """Go through the step pages the plan shows from the current page (charter,
        contact and preferences, RP notice, consent, and with code=/activation= the
        second factor and activation), as a family would; stops at any other page or an
        external redirect. See tests.support.signin."""
        return signin.walk(self, signin.Answers(consent=consent, **answers), seen=seen)

    def choose(self, profile: str = "parent", academy: str = "nancy-metz"):
        self.page = self.client.get("/choisir-profil")
        return self.submit("/choisir-profil", {"profile": profile, "academy": academy})

    def sign_in(self, who, password: str | None = None, *, start=None, steps: bool = False,
                follow: bool = True, choose: bool = True, seen: list | None = None,
                **answers):
        """The one sign-in driver (tests.support.signin): `who` is an identifier (with
        `password`) or a made account.

        Without `start`: the WAYF (unless remembered, or choose=False) then /connexion,
        as a family signing in at the IdP. With `start`, the response to the protocol's
        request (an OIDC authorize, a SAML AuthnRequest) or a URL to open: the pages it
        leads to are answered (WAYF, password). With steps=True the step pages after the
        password are answered too (tests.support.signin.Answers), otherwise the first one
        is returned for the test to look at; `seen` collects the step pages answered.
        follow=False returns the password POST's own response (sign-in at the IdP only).
        Other keywords are signin.Answers fields (consent, code, activation, profile)."""
        family = signin.answers_for(who, password, steps=steps, **answers)
        if start is not None:
            if isinstance(start, str):
                self.get(start)
            else:
                self.follow(start)
            return signin.walk(self, family, seen=seen)
        if choose and "idp_wayf" not in {c.key for c in self.client._cookies.values()}:
            self.choose(family.profile, family.academy)
        # "Changer de compte": the form even when this browser is already signed in
        # (a signed-in browser's /connexion shows who is signed in instead).
        url = signin.SIGN_IN + "?changer=1"
        self.page = self.client.get(url)
        page = self.submit(url, family.for_page(signin.SIGN_IN, set()), follow=follow)
        if not follow:
            return page
        return signin.walk(self, family, answered={signin.SIGN_IN}, seen=seen)

    def logout(self):
        page = self.client.get("/")
        return self.submit("/deconnexion", {}, page_html=page.text)
