"""Rotating IDP_SECRET_KEY (one secret per job): a signed-in family keeps its session and
the forms it was shown (IDP_SECRET_KEY_FALLBACKS), relying parties keep seeing the same
pairwise `sub` and SAML persistent NameID, and SMS codes in flight still open. Each
"node" is a second app on the same database and store, as another host would be."""
from __future__ import annotations

import re
import secrets

from joserfc import jwt
from joserfc.jwk import KeySet

from sqlalchemy import select

from idp.db import db
from idp.models import OutboxMessage
from idp.security.sms_codes import SmsCodeError, check_code, send_code

from ..support.browser import Browser, csrf_token
from ..support.saml import sign_in_via
from .conftest import Flow


def same_browser_on(app, browser: Browser) -> Browser:
    """The browser's cookies (session, WAYF choice) talking to another node."""
    twin = Browser(app.test_client())
    for cookie in browser.client._cookies.values():
        twin.client.set_cookie(cookie.key, cookie.value, domain=cookie.domain,
                               path=cookie.path)
    return twin


def signed_in(browser: Browser) -> bool:
    page = browser.get("/compte")
    return page.status_code == 200 and page.request.path == "/compte"


def test_a_session_and_the_forms_it_showed_survive_a_secret_rotation(settings, node, browser,
                                                                      make):
    account = make.account()
    browser.sign_in(account, steps=True)
    former_token = csrf_token(browser.get("/").text)  # signed with the former secret
    former, new = settings["SECRET_KEY"], secrets.token_urlsafe(48)

    # Rotated without a fallback: the session (an id in the store) holds, but a form
    # shown before the rotation is refused.
    bare = same_browser_on(node(SECRET_KEY=new), browser)
    assert signed_in(bare)
    refused = bare.client.post("/deconnexion", data={"csrf_token": former_token})
    assert refused.status_code == 400 and "Formulaire expiré" in refused.text

    # With the former secret among the fallbacks: new pages are signed with the new
    # secret (a node knowing only the former refuses them), former pages still pass.
    rotated = same_browser_on(node(SECRET_KEY=new, SECRET_KEY_FALLBACKS=former), browser)
    assert signed_in(rotated)
    new_token = csrf_token(rotated.get("/").text)
    stale = browser.client.post("/deconnexion", data={"csrf_token": new_token})
    assert stale.status_code == 400
    done = rotated.client.post("/deconnexion", data={"csrf_token": former_token})
    assert done.status_code == 302
    assert not signed_in(rotated)


def _sub(app, rp, account) -> str:
    client = app.test_client()
    tokens = Flow(Browser(app.test_client()), client).tokens_for(rp, account)
    keys = KeySet.import_key_set(client.get("/oidc/jwks").json)
    return jwt.decode(tokens["id_token"], keys, algorithms=["RS256", "ES256"]).claims["sub"]


def test_pairwise_sub_does_not_change_when_the_secret_rotates(app, settings, node, make):
    rp = make.oidc_client(redirect_uris=["https://pairwise.example/cb"], pairwise=True)
    account = make.account()
    before = _sub(app, rp, account)
    rotated = node(SECRET_KEY=secrets.token_urlsafe(48),
                   SECRET_KEY_FALLBACKS=settings["SECRET_KEY"])
    assert _sub(rotated, rp, account) == before != account.public_id
    # The salt, and only the salt, makes it: another salt, another sub.
    assert _sub(node(PAIRWISE_SALT=secrets.token_urlsafe(32)), rp, account) != before


def _name_id(app, sp, account) -> str:
    req_id, page = sign_in_via(Browser(app.test_client()), sp, account)
    return sp.consume(page.text, req_id).name_id.text


def test_saml_persistent_name_id_does_not_change_when_the_secret_rotates(app, node, make,
                                                                          new_sp):
    sp = new_sp()
    account = make.account()
    before = _name_id(app, sp, account)
    assert _name_id(node(SECRET_KEY=secrets.token_urlsafe(48)), sp, account) == before
    assert _name_id(node(PAIRWISE_SALT=secrets.token_urlsafe(32)), sp, account) != before


def sms_codes_sent(phone: str) -> list[str]:
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == phone))
    return [m.group(0) for m in (re.search(r"\b\d{6}\b", r.text) for r in rows) if m]


def test_sms_codes_are_keyed_by_their_own_key_not_the_secret(node):
    phone, other_phone = "+33612345678", "+33798765432"
    rotated = node(SECRET_KEY=secrets.token_urlsafe(48))
    other_key = node(SMS_CODE_KEY=secrets.token_urlsafe(32))
    for sender, checker, number, opens in ((node(), rotated, phone, True),
                                           (node(), other_key, other_phone, False)):
        with sender.test_request_context("/"):
            send_code(phone=number, purpose="signup", transaction="tx-1")
            db.session.commit()
            [code] = sms_codes_sent(number)
        with checker.test_request_context("/"):
            try:
                check_code(phone=number, purpose="signup", transaction="tx-1", code=code)
                opened = True
            except SmsCodeError as exc:
                assert exc.reason == "wrong"
                opened = False
            db.session.commit()
        assert opened is opens
