""""Ajouter un enfant" by the J4 match (issue 20, point 2): the number the other school
holds, an SMS code (a local SMS gateway over HTTP), the birth date of each pupil; the
school's provisional account for that representative is retired into the signed-in one.
Bad input: a wrong code, a wrong birth date (nothing attached, tries counted, then the
family is sent to the school), pupils already attached, a number no school holds (the
same pages, no SMS)."""
from __future__ import annotations

from html import unescape

from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent, GuardianLink

from ..support.accounts import account_row, deliver
from ..support.factories import RecordFamilyFactory

TYPED = "06 11 22 33 44"
PHONE = "+33611223344"


def _links(app, guardian_id):
    with app.app_context():
        return set(db.session.scalars(select(GuardianLink.pupil_id).where(
            GuardianLink.guardian_id == guardian_id)))


def _to_pupils(app, browser, gateway, phone=TYPED, e164=PHONE):
    browser.get("/compte/enfants/ajouter/sms")
    page = browser.submit_page({"phone": phone})
    assert page.request.path == "/compte/enfants/ajouter/code"
    deliver(app)
    return browser.submit_page({"code": gateway.last_code(e164)})


def test_attach_with_the_number_and_the_birth_date(app, browser, make, use_sms_gateway):
    records = RecordFamilyFactory(with_provisional_account=True)
    parent = make.account(with_pupils=1, first_name="Jeanne", last_name="PETIT",
                          identifier="jeanne.petit")
    browser.sign_in(parent.identifier, parent.password)
    page = _to_pupils(app, browser, use_sms_gateway)
    assert page.request.path == "/compte/enfants/ajouter/eleves"
    assert "Date de naissance de Lucas" in unescape(page.text)
    lucas = records.pupil_account_ids[0]
    wrong = browser.submit_page({f"naissance-{lucas}": "21/05/2013"})
    assert wrong.status_code == 400 and "Il vous reste 2 essais" in unescape(wrong.text)
    assert lucas not in _links(app, parent.id)
    done = browser.submit_page({f"naissance-{lucas}": "20/05/2013"})
    assert done.request.path == "/compte/enfants"
    assert "1 élève rattaché à votre compte." in unescape(done.text)
    assert lucas in _links(app, parent.id)
    retired = account_row(app, records.account_id)
    assert retired.state.value == "deactivated" and retired.merged_into_id == parent.id
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "guardian_pupils_attached"))
    assert event.details["by"] == "sms" and event.actor == parent.identifier


def test_too_many_wrong_birth_dates_stop_and_attach_nothing(app, browser, make,
                                                           use_sms_gateway):
    records = RecordFamilyFactory(with_provisional_account=True)
    parent = make.account()
    browser.sign_in(parent.identifier, parent.password)
    _to_pupils(app, browser, use_sms_gateway)
    lucas = records.pupil_account_ids[0]
    for day in ("01", "02"):
        browser.submit_page({f"naissance-{lucas}": f"{day}/01/2013"})
    last = browser.submit_page({f"naissance-{lucas}": "03/01/2013"})
    assert last.request.path == "/compte/enfants"
    assert "Adressez-vous à l'établissement" in unescape(last.text)
    assert _links(app, parent.id) == set()
    assert account_row(app, records.account_id).state.value == "provisional"
    again = browser.get("/compte/enfants/ajouter/eleves")
    assert again.request.path == "/compte/enfants/ajouter/sms"  # the attempt is over


def test_a_wrong_code_and_an_unknown_number(app, browser, make, use_sms_gateway):
    RecordFamilyFactory(with_provisional_account=True)
    parent = make.account()
    browser.sign_in(parent.identifier, parent.password)
    browser.get("/compte/enfants/ajouter/sms")
    browser.submit_page({"phone": TYPED})
    deliver(app)
    code = use_sms_gateway.last_code(PHONE)
    wrong = browser.submit_page({"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and "Code incorrect" in unescape(wrong.text)
    assert browser.get("/compte/enfants/ajouter/eleves").request.path \
        == "/compte/enfants/ajouter/sms"
    # A number no school holds: the same page, no SMS, and no code gets through.
    browser.get("/compte/enfants/ajouter/sms")
    page = browser.submit_page({"phone": "06 99 88 77 66"})
    assert page.request.path == "/compte/enfants/ajouter/code"
    deliver(app)
    assert use_sms_gateway.to("+33699887766") == []
    assert browser.submit_page({"code": "123456"}).status_code == 400
    assert _links(app, parent.id) == set()


def test_pupils_already_attached(app, browser, make, use_sms_gateway):
    records = RecordFamilyFactory(with_provisional_account=True)
    parent = make.account()
    with app.app_context():
        db.session.add(GuardianLink(guardian_id=parent.id,
                                    pupil_id=records.pupil_account_ids[0]))
        db.session.commit()
    browser.sign_in(parent.identifier, parent.password)
    page = _to_pupils(app, browser, use_sms_gateway)
    assert page.status_code == 400
    assert "déjà rattachés à votre compte : rien à ajouter" in unescape(page.text)
    assert account_row(app, records.account_id).state.value == "provisional"


def test_wrong_birth_dates_sent_side_by_side_all_count(app, browser, make, use_sms_gateway):
    """Two answers sent at once both read the session as it was before either: the
    second is played here by putting the session back as the first request found it.
    Each wrong date still counts (the count is not the session's)."""
    records = RecordFamilyFactory(with_provisional_account=True)
    parent = make.account()
    browser.sign_in(parent.identifier, parent.password)
    page = _to_pupils(app, browser, use_sms_gateway)
    lucas = records.pupil_account_ids[0]
    store = app.extensions["idp"]["store"]
    sid = (browser.client.get_cookie("idp_session")
           or browser.client.get_cookie("__Host-idp_session")).value
    with app.app_context():
        before = store.get("sess:" + sid)
    first = browser.submit("/compte/enfants/ajouter/eleves",
                           {f"naissance-{lucas}": "01/01/2013"}, page_html=page.text)
    assert "Il vous reste 2 essais" in unescape(first.text)
    with app.app_context():
        store.set("sess:" + sid, before, 3600)  # the other request's view of the session
    second = browser.submit("/compte/enfants/ajouter/eleves",
                            {f"naissance-{lucas}": "02/01/2013"}, page_html=page.text)
    assert "Il vous reste 1 essai." in unescape(second.text)
    with app.app_context():
        store.set("sess:" + sid, before, 3600)
    third = browser.submit("/compte/enfants/ajouter/eleves",
                           {f"naissance-{lucas}": "03/01/2013"}, page_html=page.text)
    assert "Adressez-vous à l'établissement" in unescape(third.text)
    with app.app_context():
        store.set("sess:" + sid, before, 3600)
    # Even the right date, from a session that still holds the attempt, attaches nothing.
    late = browser.submit("/compte/enfants/ajouter/eleves",
                          {f"naissance-{lucas}": "20/05/2013"}, page_html=page.text)
    assert late.request.path == "/compte/enfants"
    assert _links(app, parent.id) == set()


def test_a_shared_number_does_not_retire_the_other_parents_letter(app, browser, make,
                                                                  use_sms_gateway):
    """Two parents share one mobile: the pupils are attached, but the school's letter for
    the other representative (other names) stays theirs, provisional."""
    records = RecordFamilyFactory(with_provisional_account=True)  # Jeanne Petit's letter
    parent = make.account(first_name="Karim", last_name="Petit")
    browser.sign_in(parent.identifier, parent.password)
    _to_pupils(app, browser, use_sms_gateway)
    lucas = records.pupil_account_ids[0]
    done = browser.submit_page({f"naissance-{lucas}": "20/05/2013"})
    assert done.request.path == "/compte/enfants"
    assert lucas in _links(app, parent.id)
    letter = account_row(app, records.account_id)
    assert letter.state.value == "provisional" and letter.merged_into_id is None
