"""Refused protocol requests need no sign-in, so their audit rows are paced (idp/audit.py,
record_paced): one row per (client address, action, target) a minute and ADDRESS_BUDGET
per (address, action); every refusal is still logged, and the next row written carries
how many were not. The store down: the row is written and the page is the same 400."""
from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import select, update

import idp.audit
from idp.db import db
from idp.models import AuditEvent, OIDCClient
from idp.store import StoreUnavailable

from tests.support.browser import browser_from
from tests.support.oidc import authorize_params, pkce_pair
from tests.support.saml import send


def _rows(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).all()


def _authorize(browser, rp, **extra):
    """An authorization request refused on our page (no verified redirect URI)."""
    params = authorize_params(rp, challenge=pkce_pair()[1], **extra)
    page = browser.client.get("/oidc/authorize", query_string=params)
    assert page.status_code == 400 and page.location is None
    assert "Demande de connexion invalide" in page.text
    return page


def test_repeated_refusals_from_one_address_write_one_row_a_minute(app, rp, caplog):
    caplog.set_level(logging.INFO, logger="idp.oidc.adapter")
    pages = [_authorize(browser_from(app, "198.51.100.7"), rp, client_id="nope")
             for _ in range(4)]
    assert len({p.text.split('<main id="main"', 1)[1] for p in pages}) == 1  # the same page
    rows = _rows(app, "oidc_request_refused")
    assert [(r.ip, r.target) for r in rows] == [("198.51.100.7", "nope")]
    assert "suppressed" not in rows[0].details
    logged = [r for r in caplog.records
              if r.getMessage().startswith("OIDC authorization request refused")]
    assert len(logged) == 4  # every refusal is logged, written or not

    # Another address, another client (named by the request): rows of their own.
    _authorize(browser_from(app, "198.51.100.8"), rp, client_id="nope")
    _authorize(browser_from(app, "198.51.100.7"), rp, client_id="other")
    _authorize(browser_from(app, "198.51.100.7"), rp, redirect_uri="https://evil.example/cb")
    assert [(r.ip, r.target) for r in _rows(app, "oidc_request_refused")] == [
        ("198.51.100.7", "nope"), ("198.51.100.8", "nope"), ("198.51.100.7", "other"),
        ("198.51.100.7", rp.client_id)]


def test_the_next_row_counts_the_refusals_not_written(app, rp, monkeypatch):
    monkeypatch.setattr(idp.audit, "PACE_SECONDS", 1)
    browser = browser_from(app, "198.51.100.7")
    for _ in range(3):
        _authorize(browser, rp, client_id="nope")
    time.sleep(1.2)  # the window is over
    _authorize(browser, rp, client_id="nope")
    _authorize(browser, rp, client_id="nope")
    rows = _rows(app, "oidc_request_refused")
    assert [r.details.get("suppressed") for r in rows] == [None, 2]


def test_one_address_naming_ever_new_clients_is_bounded(app, rp):
    """The target is the request's own client id: an address may not buy a row per
    invented client."""
    browser = browser_from(app, "198.51.100.7")
    for n in range(idp.audit.ADDRESS_BUDGET + 5):
        _authorize(browser, rp, client_id=f"junk-{n}")
    _authorize(browser_from(app, "198.51.100.9"), rp, client_id="junk-0")
    rows = _rows(app, "oidc_request_refused")
    assert [r.ip for r in rows] == ["198.51.100.7"] * idp.audit.ADDRESS_BUDGET \
        + ["198.51.100.9"]


def test_one_ipv6_64_is_one_address_for_the_pacing(app, rp):
    """Rotating through a /64 buys no more rows; the rows keep the exact address."""
    for n in range(idp.audit.ADDRESS_BUDGET + 5):
        _authorize(browser_from(app, f"2001:db8:77:1::{n + 1:x}"), rp, client_id=f"junk-{n}")
    _authorize(browser_from(app, "2001:db8:77:2::1"), rp, client_id="junk-0")
    rows = _rows(app, "oidc_request_refused")
    assert [r.ip for r in rows] == [f"2001:db8:77:1::{n + 1:x}"
                                    for n in range(idp.audit.ADDRESS_BUDGET)] \
        + ["2001:db8:77:2::1"]


def test_saml_refusals_are_paced_per_address_and_sp(app, new_sp, caplog):
    caplog.set_level(logging.INFO, logger="idp.saml.views")
    sp, other = new_sp(), new_sp(host="other.example")
    _, elsewhere = sp.authn_request(destination="https://other-idp.example/sso")
    _, other_elsewhere = other.authn_request(destination="https://other-idp.example/sso")
    browser = browser_from(app, "198.51.100.7")
    for args in (elsewhere, elsewhere, elsewhere, other_elsewhere):
        page = send(browser.client, args)
        assert page.status_code == 400 and "Demande de connexion invalide" in page.text
    page = send(browser_from(app, "198.51.100.8").client, elsewhere)
    assert page.status_code == 400
    rows = _rows(app, "saml_request_refused")
    assert [(r.ip, r.target) for r in rows] == [("198.51.100.7", sp.entity_id),
                                                ("198.51.100.7", other.entity_id),
                                                ("198.51.100.8", sp.entity_id)]
    assert len([r for r in caplog.records
                if r.getMessage().startswith("SAML request refused")]) == 5


@pytest.fixture
def store_down(app, monkeypatch):
    """The store's pacing calls fail (the session's reads and writes still work)."""
    store = app.extensions["idp"]["store"]

    def down(*args, **kwargs):
        raise StoreUnavailable("down")

    for method in ("add", "incr", "take"):
        monkeypatch.setattr(store, method, down)


def test_the_store_down_still_writes_every_row_and_answers_400(app, rp, new_sp,
                                                               store_down):
    browser = browser_from(app, "198.51.100.7")
    for _ in range(2):
        _authorize(browser, rp, client_id="nope")
    _, elsewhere = new_sp().authn_request(destination="https://other-idp.example/sso")
    for _ in range(2):
        page = send(browser.client, elsewhere)
        assert page.status_code == 400 and "Demande de connexion invalide" in page.text
    page = browser.client.get("/oidc/logout", query_string={"id_token_hint": "not.a.jwt"})
    assert page.status_code == 400
    assert len(_rows(app, "oidc_request_refused")) == 2
    assert len(_rows(app, "saml_request_refused")) == 2
    assert len(_rows(app, "oidc_logout_refused")) == 1


def test_refused_rp_initiated_logouts_are_audited_and_paced(app, flow, rp, parent, make,
                                                            caplog):
    caplog.set_level(logging.INFO, logger="idp.oidc.views")
    id_token = flow.tokens_for(rp, parent)["id_token"]
    other = make.oidc_client(redirect_uris=["https://other.example/cb"],
                             post_logout_redirect_uris=["https://other.example/"])
    browser = browser_from(app, "198.51.100.7")
    asks = [{"id_token_hint": "not.a.jwt", "client_id": "someone"},
            {"id_token_hint": "not.a.jwt", "client_id": "someone"},  # paced
            {"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example/"},
            {"id_token_hint": id_token, "client_id": other.client_id},
            {"post_logout_redirect_uri": "https://ent.example/"}]
    for params in asks:
        page = browser.client.get("/oidc/logout", query_string=params)
        assert page.status_code == 400 and page.location is None
    rows = _rows(app, "oidc_logout_refused")
    assert [(r.ip, r.target, r.details["reason"]) for r in rows] == [
        ("198.51.100.7", "someone", "id_token_hint is not one of ours"),
        ("198.51.100.7", rp.client_id, "post_logout_redirect_uri is not registered"),
        ("198.51.100.7", other.client_id, "client_id does not match id_token_hint"),
        ("198.51.100.7", None, "post_logout_redirect_uri needs a valid id_token_hint")]
    assert len([r for r in caplog.records
                if r.getMessage().startswith("OIDC logout request refused")]) == len(asks)
    for row in rows:
        assert id_token not in str(row.details)

    # A hint we signed for a client since disabled: the row names that client.
    with app.app_context():
        db.session.execute(update(OIDCClient).where(OIDCClient.client_id == rp.client_id)
                           .values(enabled=False))
        db.session.commit()
    page = browser_from(app, "198.51.100.8").client.get(
        "/oidc/logout", query_string={"id_token_hint": id_token})
    assert page.status_code == 400
    last = _rows(app, "oidc_logout_refused")[-1]
    assert (last.ip, last.target, last.details["reason"]) == (
        "198.51.100.8", rp.client_id, "id_token_hint for an unknown client")
