""""Ajouter un enfant" (issue 20, point 2): a representative signed in on their account
attaches, with the letter another school addressed to them (identifier + provisional
password), that school's pupils; the letter's account is retired into theirs and the
school sees it merged. Bad input: a wrong or unknown identifier or password, one's own
identifier, a pupil's letter, a letter whose pupils are already attached, a used letter:
a French message next to the field, nothing changed, nothing revealed."""
from __future__ import annotations

import threading
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from idp.db import db
from idp.journeys.family import attach
from idp.models import Account, AccountState, AuditEvent, GuardianLink, utcnow
from idp.roster import import_roster

from ..support.accounts import account_row
from ..support.admin import ROSTER_B, SCHOOL_B, console_sign_in, make_staff
from ..support.browser import Browser


def _attach(browser, identifier, password):
    browser.get("/compte/enfants/ajouter")
    return browser.submit_page({"identifier": identifier, "password": password})


def _links(app, guardian_id):
    with app.app_context():
        return set(db.session.scalars(select(GuardianLink.pupil_id).where(
            GuardianLink.guardian_id == guardian_id)))


def test_attach_the_pupils_of_another_schools_letter(app, browser, make, other_school):
    parent = make.account(with_pupils=1)
    rep_id, rep_password = other_school["m.durand"]
    pupil_id, _ = other_school["p.durand"]
    browser.sign_in(parent.identifier, parent.password)
    page = _attach(browser, "M.Durand ", rep_password)
    assert page.request.path == "/compte/enfants"
    assert "1 élève rattaché à votre compte : Paul." in unescape(page.text)
    assert "Paul Durand" in page.text and "École Jules Ferry" in unescape(page.text)
    assert _links(app, parent.id) == {parent.pupil_ids[0], pupil_id}
    retired = account_row(app, rep_id)
    assert retired.state.value == "deactivated" and retired.merged_into_id == parent.id
    assert retired.provisional_password_hash is None
    assert _links(app, rep_id) == set()
    # The letter no longer signs in.
    assert Browser(app.test_client()).sign_in("m.durand", rep_password).request.path \
        == "/connexion"
    with app.app_context():
        events = {e.action: e for e in db.session.scalars(select(AuditEvent))}
    assert events["guardian_pupils_attached"].details["pupils"] == ["p.durand"]
    assert events["account_merged"].target == "m.durand"
    assert events["account_merged"].actor == parent.identifier


def test_the_school_sees_the_merge_and_cannot_reactivate_it(app, make, other_school):
    parent = make.account(with_pupils=1)
    rep_id, rep_password = other_school["m.durand"]
    family = Browser(app.test_client())
    family.sign_in(parent.identifier, parent.password)
    _attach(family, "m.durand", rep_password)
    staff = Browser(app.test_client())
    console_sign_in(staff, make_staff(app, "ecole.eva", role="school_staff",
                                      schools=[SCHOOL_B]))
    page = staff.get(f"/admin/etablissements/{SCHOOL_B}/comptes/{rep_id}")
    assert f"Fusionné dans le compte {parent.identifier}" in unescape(page.text)
    refused = staff.submit(f"/admin/etablissements/{SCHOOL_B}/comptes/{rep_id}/reactiver",
                           {"deadline": (date.today() + timedelta(days=30)).isoformat()},
                           page_html=page.text)
    assert account_row(app, rep_id).state.value == "deactivated"
    assert "fusionné" in unescape(refused.text)


@pytest.mark.parametrize("who", ["wrong password", "unknown", "own", "used", "expired"])
def test_a_wrong_letter_is_refused_the_same_way(app, browser, make, other_school, who):
    parent = make.account(with_pupils=1)
    rep_id, rep_password = other_school["m.durand"]
    if who == "used":  # a letter whose account was activated since
        with app.app_context():
            db.session.get(Account, rep_id).state = AccountState.active
            db.session.commit()
    if who == "expired":  # past the deadline, before the lifecycle pass deactivated it
        with app.app_context():
            db.session.get(Account, rep_id).activation_deadline = \
                utcnow() - timedelta(minutes=1)
            db.session.commit()
    identifier, password = {"wrong password": ("m.durand", "Abcd-Efgh-Jkmn"),
                            "unknown": ("z.personne9", rep_password),
                            "own": (parent.identifier, parent.password),
                            "used": ("m.durand", rep_password),
                            "expired": ("m.durand", rep_password)}[who]
    browser.sign_in(parent.identifier, parent.password)
    page = _attach(browser, identifier, password)
    assert page.status_code == 400
    assert "Identifiant ou mot de passe provisoire incorrect." in unescape(page.text)
    assert 'id="identifier-error"' in page.text and password not in page.text
    assert _links(app, parent.id) == {parent.pupil_ids[0]}
    assert account_row(app, rep_id).merged_into_id is None


def test_a_pupils_letter_is_not_a_representatives(app, browser, make, other_school):
    parent = make.account(with_pupils=1)
    pupil_id, pupil_password = other_school["p.durand"]
    browser.sign_in(parent.identifier, parent.password)
    page = _attach(browser, "p.durand", pupil_password)
    assert page.status_code == 400 and "Ce courrier est celui d'un élève" in unescape(page.text)
    assert pupil_id not in _links(app, parent.id)
    assert account_row(app, pupil_id).state.value == "provisional"


def test_a_letter_whose_pupils_are_already_attached(app, browser, make, other_school):
    parent = make.account()
    rep_id, rep_password = other_school["m.durand"]
    pupil_id, _ = other_school["p.durand"]
    with app.app_context():
        db.session.add(GuardianLink(guardian_id=parent.id, pupil_id=pupil_id))
        db.session.commit()
    browser.sign_in(parent.identifier, parent.password)
    page = _attach(browser, "m.durand", rep_password)
    assert page.status_code == 400 and "déjà rattachés à votre compte" in unescape(page.text)
    row = account_row(app, rep_id)
    assert row.state.value == "provisional" and row.merged_into_id is None
    assert _links(app, rep_id) == {pupil_id}


def test_attaching_needs_a_recent_password(app, browser, make, other_school, monkeypatch):
    import time

    from idp.journeys.account import reauth

    class Later:
        def time(self):
            return time.time() + 3600

    parent = make.account()
    rep_id, rep_password = other_school["m.durand"]
    browser.sign_in(parent.identifier, parent.password)
    form = browser.get("/compte/enfants/ajouter")
    monkeypatch.setattr(reauth, "time", Later())
    page = browser.submit("/compte/enfants/ajouter",
                          {"identifier": "m.durand", "password": rep_password},
                          page_html=form.text)
    assert page.request.path == "/compte/confirmer-mot-de-passe"
    assert account_row(app, rep_id).merged_into_id is None


def test_the_other_schools_dashboard_counts_the_account_that_took_over(app, make,
                                                                       other_school):
    parent = make.account(with_pupils=1)
    rep_id, rep_password = other_school["m.durand"]
    family = Browser(app.test_client())
    family.sign_in(parent.identifier, parent.password)
    _attach(family, "m.durand", rep_password)
    staff = Browser(app.test_client())
    console_sign_in(staff, make_staff(app, "ecole.eva", role="school_staff",
                                      schools=[SCHOOL_B]))
    page = staff.get(f"/admin/etablissements/{SCHOOL_B}/tableau/liste?profil=parent")
    assert f"<code>{parent.identifier}</code>" in page.text
    assert "<code>m.durand</code>" not in page.text
    listing = unescape(staff.get(f"/admin/etablissements/{SCHOOL_B}/tableau/liste").text)
    assert "activé" in listing


def test_a_letter_sent_twice_at_once_links_its_pupils_once(app, make, other_school):
    """A double click: the second request waits on the letter's row the first holds
    and, once it commits, finds the letter used (the same refusal as a used letter),
    never a second guardian link (unique: a 500)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite runs one writer at a time)")
    parent = make.account()
    rep_id, rep_password = other_school["m.durand"]
    outcome = {}

    def attaching():
        with app.test_request_context("/compte/enfants/ajouter", environ_base={
                "REMOTE_ADDR": "192.0.2.51"}):
            try:
                attach.attach_by_letter(db.session.get(Account, parent.id), "m.durand",
                                        rep_password)
                db.session.commit()
                outcome["result"] = "attached"
            except attach.AttachError as exc:
                db.session.rollback()
                outcome["result"] = exc.reason
            finally:
                db.session.remove()

    with app.app_context():
        with db.engine.connect() as first:  # the first request, inside its transaction
            first.execute(select(Account.id).where(Account.id == rep_id).with_for_update())
            thread = threading.Thread(target=attaching)
            thread.start()
            thread.join(1.5)
            assert thread.is_alive()  # waiting on the letter's row
            first.execute(Account.__table__.update().where(Account.__table__.c.id == rep_id)
                          .values(state=AccountState.deactivated))
            first.commit()
        thread.join(10)
    assert outcome["result"] == attach.AttachRefused.credentials
    assert _links(app, parent.id) == set()


def test_the_other_schools_next_import_links_the_account_that_took_over(app, browser, make,
                                                                       other_school):
    """The letter's records stay on the retired account (merged_into): the school's next
    import of the same file creates no account and no letter, links the parent who took
    over, and gives the retired account neither links nor names back."""
    parent = make.account(with_pupils=1)
    rep_id, rep_password = other_school["m.durand"]
    pupil_id, _ = other_school["p.durand"]
    browser.sign_in(parent.identifier, parent.password)
    _attach(browser, "m.durand", rep_password)
    with app.app_context():
        db.session.execute(GuardianLink.__table__.delete().where(
            GuardianLink.pupil_id == pupil_id))  # the school unlinked Paul meanwhile
        db.session.commit()
        accounts_before = db.session.query(Account).count()
        report = import_roster(SCHOOL_B, ROSTER_B)
        db.session.commit()
        assert db.session.query(Account).count() == accounts_before, report
    assert _links(app, parent.id) == {parent.pupil_ids[0], pupil_id}
    assert _links(app, rep_id) == set()
