""""Fusionner deux comptes" (issue 20, point 3): signed in on the account to keep, the
family gives the other's identifier and password; links, consents and charter
acceptances move; the other is closed with a tombstone; relying parties keep one stable
`sub` for the kept account; the closed one's sessions (back-channel logout) and refresh
tokens end; audited on both sides. Bad input: one's own identifier, a pupil's account, a
wrong password, an unknown identifier, a not-activated account: a French message next to
the field, nothing changed."""
from __future__ import annotations

import base64
import json
import threading
from html import unescape

import pytest
from sqlalchemy import select

from idp.db import db
from idp.journeys.family import merge
from idp.models import (Account, AccountState, AuditEvent, CharterAcceptance, Consent,
                        GuardianLink)
from idp.notify.delivery import deliver_due

from ..support.accounts import account_row, update_account
from ..support.backchannel import BackchannelReceiver, backchannel_rp  # noqa: F401
from ..support.browser import Browser
from ..support.gating import at_rp, authorize


def _sub(tokens) -> str:
    payload = tokens["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]


def _merge(browser, identifier, password, understood=True):
    browser.get("/compte/fusionner")
    data = {"identifier": identifier, "password": password}
    if understood:
        data["understood"] = "y"
    return browser.submit_page(data)


def test_merge_two_representative_accounts(app, make, gating, flow, backchannel_rp):
    gating.charter()
    kept = make.account(with_pupils=1)
    pronote = make.oidc_client(name="PRONOTE", redirect_uris=["https://pronote.example/cb"])
    gating.charter(version="pronote-1", rp_key=f"oidc:{pronote.client_id}")  # `other` only
    other = make.account(with_pupils=1, first_name="Camille", email="camille2@example.org")
    with app.app_context():
        db.session.add(Consent(account_id=other.id, rp_key="saml:https://sp.example",
                               claims=["FrEduCtId"]))
        db.session.commit()
    computer = Browser(app.test_client())
    flow.browser = computer
    sub_before = _sub(flow.tokens_for(backchannel_rp, kept))
    phone = Browser(app.test_client())
    flow.browser = phone
    other_tokens = flow.tokens_for(backchannel_rp, other)

    done = _merge(computer, other.identifier, other.password)
    assert done.request.path == "/compte/enfants", unescape(done.text)[:3000]
    assert "Vos deux comptes sont fusionnés : 1 élève rattaché en plus" in unescape(done.text)
    with app.app_context():
        links = set(db.session.scalars(select(GuardianLink.pupil_id).where(
            GuardianLink.guardian_id == kept.id)))
        assert links == {kept.pupil_ids[0], other.pupil_ids[0]}
        assert db.session.scalar(select(Consent.rp_key).where(
            Consent.account_id == kept.id)) == "saml:https://sp.example"
        assert len(db.session.scalars(select(CharterAcceptance).where(
            CharterAcceptance.account_id == kept.id)).all()) == 2
        events = {e.action: e for e in db.session.scalars(select(AuditEvent))}
    closed = account_row(app, other.id)
    assert closed.state.value == "deleted" and closed.merged_into_id == kept.id
    assert closed.identifier == f"deleted-{other.public_id}" and closed.email is None
    assert events["accounts_merged"].target == kept.identifier
    assert events["accounts_merged"].details["pupils"] == 1
    assert events["account_merged_into"].target == f"deleted:{other.public_id}"
    # The closed account's session ends (back channel), its refresh token too.
    assert phone.get("/").request.path == "/connexion"
    with app.app_context():
        deliver_due()
    assert len(BackchannelReceiver.received) == 1
    refused = flow.client.post("/oidc/token", data={
        "grant_type": "refresh_token", "refresh_token": other_tokens["refresh_token"]},
        auth=(backchannel_rp.client_id, backchannel_rp.client_secret))
    assert refused.status_code == 400
    # The kept account: still signed in here, the same sub for the relying party.
    assert computer.get("/").request.path == "/"
    flow.browser = computer
    assert _sub(flow.tokens_for(backchannel_rp, kept)) == sub_before
    assert Browser(app.test_client()).sign_in(other.identifier, other.password) \
        .request.path == "/connexion"


@pytest.mark.parametrize("case", ["own", "wrong", "unknown", "pupil", "not_active",
                                  "unticked", "second_factor"])
def test_bad_merges_change_nothing(app, browser, make, case):
    kept = make.account(with_pupils=1)
    other = make.account(with_pupils=1, first_name="Camille",
                         with_second_factor=case == "second_factor")
    pupil = kept.pupils[0]
    if case == "not_active":
        update_account(app, other.id, state="deactivated")
    identifier, password, message = {
        "own": (kept.identifier, kept.password,
                "C'est l'identifiant du compte utilisé en ce moment"),
        "wrong": (other.identifier, "Pas-le-bon-2026!", "Identifiant ou mot de passe incorrect"),
        "unknown": ("z.personne9", other.password, "Identifiant ou mot de passe incorrect"),
        "pupil": (pupil.identifier, pupil.password, "un compte d'élève ne peut pas être fusionné"),
        "not_active": (other.identifier, other.password, "Cet autre compte n'est pas activé"),
        "unticked": (other.identifier, other.password, "Cochez la case"),
        "second_factor": (other.identifier, other.password,
                          "protégé par une validation en deux étapes"),
    }[case]
    browser.sign_in(kept.identifier, kept.password)
    page = _merge(browser, identifier, password, understood=case != "unticked")
    assert page.status_code == 400 and message in unescape(page.text)
    assert password not in page.text
    assert account_row(app, other.id).state.value in ("active", "deactivated")
    assert account_row(app, pupil.id).state.value == "active"
    with app.app_context():
        assert set(db.session.scalars(select(GuardianLink.pupil_id).where(
            GuardianLink.guardian_id == kept.id))) == {kept.pupil_ids[0]}
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "accounts_merged")) is None


def test_a_merge_waits_for_a_concurrent_one_and_sees_its_outcome(app, make):
    """Crossed merges (the family, on two devices, merges A into B and B into A): the
    second waits on the rows the first holds and, once it commits, finds the other
    account closed, instead of closing it a second time with the children of both."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite runs one writer at a time)")
    kept = make.account(with_pupils=1)
    other = make.account(with_pupils=1, first_name="Camille")
    outcome = {}

    def merging():
        with app.test_request_context("/compte/fusionner", environ_base={
                "REMOTE_ADDR": "192.0.2.50"}):
            try:
                merge.merge(db.session.get(Account, kept.id), other.identifier,
                            other.password)
                db.session.commit()
                outcome["result"] = "merged"
            except merge.MergeError as exc:
                db.session.rollback()
                outcome["result"] = exc.reason
            finally:
                db.session.remove()

    with app.app_context():
        with db.engine.connect() as holder:  # the other merge, inside its transaction
            holder.execute(select(Account.id).where(Account.id == other.id)
                           .with_for_update())
            thread = threading.Thread(target=merging)
            thread.start()
            thread.join(1.5)
            assert thread.is_alive()  # waiting on the row
            holder.execute(Account.__table__.update().where(Account.__table__.c.id == other.id)
                           .values(state=AccountState.deleted))
            holder.commit()
        thread.join(10)
    assert outcome["result"] == merge.MergeRefused.not_active
    with app.app_context():
        assert set(db.session.scalars(select(GuardianLink.pupil_id).where(
            GuardianLink.guardian_id == kept.id))) == {kept.pupil_ids[0]}


def test_the_other_schools_next_import_follows_the_merge(app, make, other_school):
    """Two activated letters of one person from two schools, merged: school B's record
    stays on the tombstone (merged_into), so B's next import of the same file makes no
    new account or letter, keeps Paul linked to the kept account and gives the tombstone
    neither links nor its names back."""
    from idp.extensions import passwords
    from idp.models import utcnow
    from idp.roster import import_roster

    from ..support.admin import ROSTER_B, SCHOOL_B

    kept = make.account(with_pupils=1)
    other_id, _ = other_school["m.durand"]
    pupil_id, _ = other_school["p.durand"]
    with app.app_context():
        password_hash = passwords().hash("Autre-Compte-2026")
    update_account(app, other_id, state=AccountState.active, password_hash=password_hash,
                   provisional_password_hash=None, activated_at=utcnow())
    browser = Browser(app.test_client())
    browser.sign_in(kept.identifier, kept.password)
    done = _merge(browser, "m.durand", "Autre-Compte-2026")
    assert done.request.path == "/compte/enfants", unescape(done.text)[:2000]
    with app.app_context():
        accounts_before = db.session.query(Account).count()
        import_roster(SCHOOL_B, ROSTER_B)
        db.session.commit()
        assert db.session.query(Account).count() == accounts_before
        links = set(db.session.execute(select(GuardianLink.guardian_id, GuardianLink.pupil_id)
                                       .where(GuardianLink.pupil_id == pupil_id)))
    assert links == {(kept.id, pupil_id)}
    closed = account_row(app, other_id)
    assert closed.state.value == "deleted" and closed.first_name == ""
    assert closed.merged_into_id == kept.id


def _link(app, account_id: int, sub: str, created: bool = False) -> None:
    from idp.models import FranceConnectLink

    with app.app_context():
        db.session.add(FranceConnectLink(account_id=account_id, sub=sub, given_name="Camille",
                                         family_name="Martin", created_account=created,
                                         placeholder_hash="$argon2id$placeholder" if created
                                         else None))
        db.session.commit()


def _links(app) -> dict[str, int]:
    from idp.models import FranceConnectLink

    with app.app_context():
        return dict(db.session.execute(select(FranceConnectLink.sub,
                                              FranceConnectLink.account_id)).all())


@pytest.mark.parametrize("kept_has_one", [False, True])
def test_a_merge_moves_the_franceconnect_link_unless_kept_has_one(app, browser, make,
                                                                   kept_has_one):
    """Signing in with FranceConnect keeps working after a merge, now on the kept account;
    one link per account, so a kept link stays and the other's ends with its account."""
    kept = make.account(with_pupils=1)
    other = make.account(with_pupils=1, first_name="Camille", email="camille3@example.org")
    _link(app, other.id, "fc-sub-other", created=True)
    if kept_has_one:
        _link(app, kept.id, "fc-sub-kept")
    browser.sign_in(kept.identifier, kept.password)
    done = _merge(browser, other.identifier, other.password)
    assert done.status_code == 200 and "Vos deux comptes sont fusionnés" in unescape(done.text)
    assert account_row(app, other.id).merged_into_id == kept.id
    if kept_has_one:
        assert _links(app) == {"fc-sub-kept": kept.id}
    else:
        assert _links(app) == {"fc-sub-other": kept.id}
        from idp.models import FranceConnectLink

        with app.app_context():
            link = db.session.scalar(select(FranceConnectLink))
            assert link.created_account is False and link.placeholder_hash is None
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "accounts_merged"))
        assert event.details["franceconnect"] == (0 if kept_has_one else 1)
