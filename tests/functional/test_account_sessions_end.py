"""Every way an account's sessions end goes through signin.account_sessions: a password set
at the first connection and a new letter for an account in use now do what a reset does
(the relying parties' refresh and access tokens stop, a back-channel logout is queued for
each other session), where they used to bump the session epoch only; « Se déconnecter
partout » ("closes all your sessions, on this device and the others: school computer,
phone") stops the services' tokens too, so an app left signed in on a lost phone stops."""
from __future__ import annotations

import json

from sqlalchemy import select

from idp.db import db
from idp.models import Account, AccountState, OutboxMessage
from idp.roster import issue_credentials
from idp.roster.credentials import hash_provisional, locked_password_hash

from ..support.accounts import account_row, update_account
from ..support.backchannel import backchannel_rp  # noqa: F401
from ..support.browser import Browser

LETTER = "Provisoire-2026"
NEW_PASSWORD = "Cartable-Vert-2026"


def _in_use_at_the_rp(flow, rp, account):
    """The account signed in at `rp` in `flow.browser`: its tokens (a refresh token too)."""
    tokens = flow.tokens_for(rp, account)
    assert tokens.get("refresh_token")
    assert flow.browser.get("/").request.path == "/"
    return tokens


def _refresh(client, rp, tokens):
    return client.post("/oidc/token", data={"grant_type": "refresh_token",
                                            "refresh_token": tokens["refresh_token"]},
                       auth=(rp.client_id, rp.client_secret))


def _userinfo(client, tokens):
    return client.get("/oidc/userinfo",
                      headers={"Authorization": "Bearer " + tokens["access_token"]})


def _logouts(app, rp) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == "logout", OutboxMessage.recipient == rp.client_id)).all()
        return [json.loads(row.text) for row in rows]


def test_a_password_set_at_the_first_connection_ends_what_the_account_had_open(
        app, client, flow, backchannel_rp, make):
    account = make.account()
    tokens = _in_use_at_the_rp(flow, backchannel_rp, account)
    assert _userinfo(client, tokens).status_code == 200
    # An account in use that must go through its first connection again (as after a new
    # letter), its sessions and tokens left as they were.
    with app.app_context():
        hashes = {"provisional_password_hash": hash_provisional(LETTER),
                  "password_hash": locked_password_hash()}
    update_account(app, account.id, state=AccountState.provisional, **hashes)
    epoch = account_row(app, account.id).session_epoch
    other = Browser(app.test_client())
    form = other.sign_in(account.identifier, LETTER)
    assert form.request.path == "/premiere-connexion", form.request.path
    assert _logouts(app, backchannel_rp) == []
    done = other.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
                              "email": "camille.martin@example.org"})
    assert done.status_code == 200 and done.request.path != "/premiere-connexion"
    row = account_row(app, account.id)
    assert row.state == AccountState.active and row.session_epoch == epoch + 1
    assert other.get("/").request.path == "/"                  # this browser goes on
    assert flow.browser.get("/").request.path == "/connexion"  # the other one is signed out
    # New: the relying party hears of the other session, its tokens stop.
    [notice] = _logouts(app, backchannel_rp)
    assert notice["sid"] and notice["sub"]
    refreshed = _refresh(client, backchannel_rp, tokens)
    assert refreshed.status_code == 400 and refreshed.json["error"] == "invalid_grant"
    assert _userinfo(client, tokens).status_code == 401


def test_a_new_letter_for_an_account_in_use_tells_the_relying_parties(
        app, client, flow, backchannel_rp, make):
    account = make.account()
    tokens = _in_use_at_the_rp(flow, backchannel_rp, account)
    epoch = account_row(app, account.id).session_epoch
    with app.app_context():  # as `idp roster letters --account`: no request
        [letter] = issue_credentials([db.session.get(Account, account.id)], actor="test")
        db.session.commit()
    row = account_row(app, account.id)
    assert row.state == AccountState.provisional and row.session_epoch == epoch + 1
    assert flow.browser.get("/").request.path == "/connexion"
    [notice] = _logouts(app, backchannel_rp)  # new: the RP is told
    assert notice["sid"]
    assert _refresh(client, backchannel_rp, tokens).status_code == 400
    assert _userinfo(client, tokens).status_code == 401  # new: the access token too
    # The letter's password opens the first connection.
    page = Browser(app.test_client()).sign_in(account.identifier, letter.password)
    assert page.request.path == "/premiere-connexion"


def test_a_class_of_provisional_accounts_gets_its_letters_without_a_logout(
        app, flow, backchannel_rp, make):
    account = make.account(state=AccountState.provisional)
    epoch = account_row(app, account.id).session_epoch
    with app.app_context():
        issue_credentials([db.session.get(Account, account.id)], actor="test")
        db.session.commit()
    assert account_row(app, account.id).session_epoch == epoch + 1
    assert _logouts(app, backchannel_rp) == []


def test_sign_out_everywhere_stops_the_services_tokens(app, client, flow, backchannel_rp,
                                                       make):
    account = make.account()
    tokens = _in_use_at_the_rp(flow, backchannel_rp, account)
    page = flow.browser.get("/")
    done = flow.browser.submit("/deconnexion-partout", {}, page_html=page.text)
    assert "Votre session est fermée" in done.text
    assert len(_logouts(app, backchannel_rp)) == 1
    refused = _refresh(client, backchannel_rp, tokens)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
