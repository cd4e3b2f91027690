"""A sign-in request we cannot answer (SAML AuthnRequest or OIDC authorization request
with nowhere trusted to send an error) gets our page: 400, a French explanation without
the library's text (the reason is logged, and audited), "tu" to a pupil signed in or on a
device that chose the pupil profile, "vous" to everyone else."""
from __future__ import annotations

import base64
import html
import logging
import zlib
from urllib.parse import urlencode

import pytest
from saml2 import BINDING_HTTP_REDIRECT
from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent

from tests.support.oidc import authorize_params, pkce_pair
from tests.support.saml import send

PUPIL = "Retourne sur ce service et réessaie."
PARENT = "Retournez sur ce service et réessayez."


def _said(page) -> str:
    """What the page says: its <main> (the header's language links repeat the query)."""
    return html.unescape(page.text.split('<main id="main"', 1)[1].split("</main>", 1)[0])


def _bad_authn_requests(new_sp) -> dict[str, dict]:
    """AuthnRequests over the Redirect binding that cannot be answered: from an SP we do
    not know, with a signature that does not verify, a message that does not inflate, XML
    that does not parse, and a Destination that is not ours."""
    sp, stranger = new_sp(), new_sp(host="stranger.example", register=False)
    signing = new_sp(host="signed.example", sign_requests=True)
    _, unknown = stranger.authn_request()
    _, good = signing.authn_request()
    forged = dict(good, query=good["query"].replace("Signature=", "Signature=AAAA"))
    garbled = {"url": "/saml/sso/redirect", "query": "SAMLRequest=bm90LWRlZmxhdGVk"}
    squeezer = zlib.compressobj(9, zlib.DEFLATED, -15)
    broken = base64.b64encode(squeezer.compress(b"<samlp:AuthnRequest ID=") + squeezer.flush())
    not_xml = {"url": "/saml/sso/redirect", "query": urlencode({"SAMLRequest": broken})}
    _, elsewhere = sp.authn_request(destination="https://other-idp.example/sso")
    return {"unknown SP": unknown, "bad signature": forged, "not DEFLATE": garbled,
            "unparsable XML": not_xml, "wrong destination": elsewhere}


def _saml_reasons(app) -> list[str]:
    with app.app_context():
        return [e.details["reason"] for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "saml_request_refused")
            .order_by(AuditEvent.id))]


@pytest.mark.parametrize("pupil, words, not_words", [(True, PUPIL, PARENT),
                                                     (False, PARENT, PUPIL)])
def test_a_refused_authn_request_speaks_to_the_signed_in_member(app, make, browser, new_sp,
                                                                caplog, pupil, words,
                                                                not_words):
    caplog.set_level(logging.INFO, logger="idp.saml.views")
    account = make.account(pupil=True) if pupil else make.account()
    assert browser.sign_in(account).request.path == "/"
    for n, (why, args) in enumerate(_bad_authn_requests(new_sp).items()):
        caplog.clear()
        # Each from its own address: one address gets one row a minute per SP (paced).
        browser.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n}"
        before = len(_saml_reasons(app))
        page = send(browser.client, args)
        said = _said(page)
        assert page.status_code == 400 and page.location is None, why
        assert "Demande de connexion invalide" in said and words in said, why
        assert not_words not in said and "vous a envoyé" not in said, why
        # The reason is for the operators (the log, the audit trail), not on the page.
        logged = [r.getMessage().split(": ", 1)[1] for r in caplog.records
                  if r.getMessage().startswith("SAML request refused")]
        audited = _saml_reasons(app)[before:]
        assert len(logged) == 1 and audited == [logged[0][:200]], why
        assert logged[0] not in page.text, why
        for library_words in ("Error", "Signature", "Destination", "XML", "stranger.example"):
            assert library_words not in said, (why, library_words)
    assert browser.get("/").request.path == "/"  # still signed in


def test_a_refused_authn_request_follows_the_devices_profile(browser, new_sp):
    """Nobody signed in: the profile this device chose decides, "vous" without one."""
    args = _bad_authn_requests(new_sp)["unknown SP"]
    page = send(browser.client, args)
    assert page.status_code == 400 and PARENT in _said(page)
    browser.choose("pupil")
    page = send(browser.client, args)
    assert page.status_code == 400 and PUPIL in _said(page) and PARENT not in _said(page)


@pytest.mark.parametrize("pupil, words, not_words", [(True, PUPIL, PARENT),
                                                     (False, PARENT, PUPIL)])
def test_a_refused_authorization_request_speaks_to_the_signed_in_member(app, make, browser,
                                                                        rp, caplog, pupil,
                                                                        words, not_words):
    """OIDC: an unknown client, a redirect URI not registered: nowhere to send an error."""
    caplog.set_level(logging.INFO, logger="idp.oidc.adapter")
    account = make.account(pupil=True) if pupil else make.account()
    assert browser.sign_in(account).request.path == "/"
    _, challenge = pkce_pair()
    for params in (authorize_params(rp, challenge=challenge, client_id="nope"),
                   authorize_params(rp, challenge=challenge,
                                    redirect_uri="https://evil.example/callback")):
        caplog.clear()
        page = browser.client.get("/oidc/authorize", query_string=params)
        said = _said(page)
        assert page.status_code == 400 and page.location is None
        assert "Demande de connexion invalide" in said and words in said
        assert not_words not in said and "vous a envoyé" not in said
        logged = [r.getMessage().split(": ", 1)[1] for r in caplog.records
                  if r.getMessage().startswith("OIDC authorization request refused")]
        assert len(logged) == 1 and logged[0] not in page.text
        assert "invalid_" not in said and "redirect" not in said and "client" not in said
    with app.app_context():
        audited = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "oidc_request_refused").order_by(AuditEvent.id)).all()
    assert [e.target for e in audited] == ["nope", rp.client_id]
    assert all(e.details["reason"] for e in audited)
