"""One sign-in driver and one step walker, for OpenID Connect and SAML alike.

A family's browser starts somewhere (an OIDC authorize, a SAML AuthnRequest, or the IdP's
own /connexion), then answers each page the sign-in plan shows until it lands on a page
it has no answer for: the RP's redirect, the SAML auto-post page, home, an error. What a
family answers on each page is `Answers.for_page`, written once here; `walk` runs it on a
browser. Two browsers implement the two calls `walk` needs (`where()`: the path of the
IdP page the browser is looking at, or None; `answer(path, fields)`: submit that page's
form), through real forms either way:

- tests.support.browser.Browser, Flask's test client in process (functional tests);
- tests.support.served.HttpBrowser, requests over real HTTP (interop tests).

    browser.sign_in(account)                                   /connexion, as a family would
    browser.sign_in(account, start=authorize(browser, rp))     an OIDC authorization
    browser.sign_in(account, start=send(browser.client, args), steps=True)   a SAML request
    browser.through_steps()                                    the step pages only
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

WAYF = "/choisir-profil"
SIGN_IN = "/connexion"
ACTIVATION = "/premiere-connexion"
SECOND_FACTOR = "/connexion/verification"
# The J5 step pages and the answer a family gives on each (checkboxes are not sent
# unless ticked; on the consent page "allow" or "deny").
STEP_ANSWERS = {"/charte": {"accept": "y"}, "/preferences": {},
                "/information-service": {"acknowledge": "y"}}
CONSENT = "/consentement"
ONCE = (WAYF, SIGN_IN, ACTIVATION, SECOND_FACTOR)


@dataclass
class Answers:
    """What the family knows and decides. Without an identifier it answers the step pages
    only; without `code` (a callable giving a current TOTP code) it stops at the second
    factor, and without `activation` (the first-connection form) at activation."""
    identifier: str | None = None
    password: str | None = None
    profile: str = "parent"
    academy: str = "nancy-metz"
    steps: bool = True            # answer the step pages after the password
    wayf: bool | None = None      # answer the WAYF (by default: when signing in)
    consent: bool = True
    code: Callable[[], str] | None = None
    activation: dict | None = None

    def for_page(self, path: str, answered: set[str]) -> dict | None:
        """The fields to submit on the page at `path`, or None to stop there. The WAYF, the
        password, activation and the second factor are answered once: asked again, the
        test looks at the page."""
        if path in ONCE and path in answered:
            return None
        if path == WAYF:
            wayf = self.identifier is not None if self.wayf is None else self.wayf
            return {"profile": self.profile, "academy": self.academy} if wayf else None
        if path == SIGN_IN:
            if self.identifier is None:
                return None
            return {"identifier": self.identifier, "password": self.password}
        if not self.steps:
            return None
        if path == ACTIVATION and self.activation is not None:
            return dict(self.activation)
        if path == SECOND_FACTOR and self.code is not None:
            return {"code": self.code()}
        if path == CONSENT:
            return {"allow" if self.consent else "deny": "1"}
        return STEP_ANSWERS.get(path)


def walk(browser, answers: Answers, answered: set[str] | None = None,
         seen: list[str] | None = None, limit: int = 12):
    """Answer pages until one has no answer; the browser's last page. `answered`: the
    pages already answered by the caller; `seen` (a list) gets the path of each step
    page answered after the password, in order, for tests of the plan's order."""
    answered = set(answered or ())
    for _ in range(limit):
        path = browser.where()
        fields = None if path is None else answers.for_page(path, answered)
        if fields is None:
            break
        answered.add(path)
        if seen is not None and path not in (WAYF, SIGN_IN):
            seen.append(path)
        browser.answer(path, fields)
    return browser.page


def answers_for(who=None, password: str | None = None, **options) -> Answers:
    """Answers from an identifier and password, or from a made account (its identifier,
    password and, with a second factor, its codes)."""
    if who is not None and not isinstance(who, str):
        if getattr(who, "totp_secret", None) and "code" not in options:
            options["code"] = who.code
        who, password = who.identifier, password or who.password
    return Answers(identifier=who, password=password, **options)
