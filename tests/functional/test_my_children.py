""""Mes enfants" (issue 20, point 1): a signed-in representative sees each linked pupil
(school, class, account state); for a pupil of primary school or collège, shows the
identifier and sets a temporary password (after a confirmation page) that the pupil replaces at the next sign-in (the
first-connection form without the birth-date question). Each action is behind the re-auth
window, audited, and told to the pupil's verified email. Bad input: another family's pupil,
a declined link, a lycée pupil, a deactivated pupil, an expired re-auth: a French message,
nothing changed, nothing said about others."""
from __future__ import annotations

import re
import time
from html import unescape

from sqlalchemy import select

from idp.db import db
from idp.journeys.account import reauth
from idp.models import AuditEvent, DeclinedGuardianLink, GuardianLink, PupilRecord

from ..support.accounts import account_row, audit_actions, deliver, mails_to, update_account

PUPIL_EMAIL = "enfant0@example.org"
NEW_PASSWORD = "Trousse-Verte-2027!"


class _Later:
    def __init__(self, seconds):
        self.offset = seconds

    def time(self):
        return time.time() + self.offset


def _signed_in_family(app, browser, make, **pupil_fields):
    family = make.family(with_pupils=2)
    if pupil_fields:
        update_account(app, family.pupils[0].id, **pupil_fields)
    browser.sign_in(family.guardian.identifier, family.guardian.password)
    return family


def _post(browser, path):
    page = browser.get("/")  # any page of the session gives a CSRF token
    return browser.submit(path, {}, page_html=page.text)


def _confirmed(browser, path):
    """The button of "Mes enfants", then « Confirmer » on the page it leads to."""
    asked = _post(browser, path)
    assert asked.status_code == 200 and 'name="confirm"' in asked.text, asked.status_code
    return browser.submit(path, {"confirm": "1"}, page_html=asked.text)


def _guardian_events(app):
    return [a for a in audit_actions(app) if a.startswith("guardian_")]


def test_the_page_lists_each_child_with_school_class_and_state(app, browser, make):
    family = _signed_in_family(app, browser, make)
    update_account(app, family.pupils[1].id, state="pending_email")
    page = browser.get("/compte/enfants")
    assert page.status_code == 200 and page.request.path == "/compte/enfants"
    text = unescape(page.text)
    assert "Enfant0 Martin" in text and "Enfant1 Martin" in text
    assert "Collège Jean Moulin" in text and "5e A" in text
    assert "Actif" in text and "En attente de validation" in text
    assert family.pupils[0].identifier not in text  # shown only when asked
    assert "Mes enfants" in browser.get("/compte").text


def test_showing_the_identifier_is_audited_and_told_to_the_child(app, browser, make,
                                                                  use_smtp):
    family = _signed_in_family(app, browser, make, email=PUPIL_EMAIL, email_verified=True)
    pupil = family.pupils[0]
    page = _post(browser, f"/compte/enfants/{pupil.id}/identifiant")
    assert page.status_code == 200 and pupil.identifier in page.text
    # "Identifiant" once: the card's heading (found by the Chromium walk: heading and label).
    assert page.text.split("<main", 1)[1].count("Identifiant") == 1
    assert f'<strong id="child-identifier">{pupil.identifier}</strong>' in page.text
    assert _guardian_events(app) == ["guardian_identifier_shown"]
    deliver(app)
    [mail] = mails_to(use_smtp, PUPIL_EMAIL)
    assert "a consulté l'identifiant de ton compte" in use_smtp.text_of(mail)


def test_a_temporary_password_is_shown_once_and_replaced_at_the_next_sign_in(
        app, browser, make, use_smtp, client):
    family = _signed_in_family(app, browser, make, email=PUPIL_EMAIL, email_verified=True)
    pupil = family.pupils[0]
    page = _confirmed(browser, f"/compte/enfants/{pupil.id}/mot-de-passe")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    temporary = re.search(r'id="temporary-password">([^<]+)<', page.text).group(1)
    assert "il ne sera plus affiché" in unescape(page.text)
    row = account_row(app, pupil.id)
    assert row.guardian_reset_at is not None and row.state.value == "active"
    assert temporary not in (row.provisional_password_hash or "")  # stored hashed
    assert "Provisoire" in browser.get("/compte/enfants").text  # not the password again
    assert temporary not in browser.page.text
    assert _guardian_events(app) == ["guardian_temporary_password"]
    deliver(app)
    [mail] = mails_to(use_smtp, PUPIL_EMAIL)
    assert "t'a donné un mot de passe provisoire" in use_smtp.text_of(mail)
    assert temporary not in use_smtp.text_of(mail)

    from ..support.browser import Browser
    child = Browser(app.test_client())
    refused = child.sign_in(pupil.identifier, pupil.password, profile="pupil")
    assert refused.request.path == "/connexion"  # the forgotten password is dead
    form = child.sign_in(pupil.identifier, temporary, profile="pupil")
    assert form.request.path == "/premiere-connexion"
    text = unescape(form.text)
    assert "Choisis ton nouveau mot de passe" in text
    assert 'name="birth_date"' not in form.text  # the representative vouched
    same = child.submit_page({"password": temporary, "password_confirm": temporary,
                              "email": PUPIL_EMAIL})
    assert same.status_code == 400 and "mot de passe provisoire" in unescape(same.text)
    done = child.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
                              "email": PUPIL_EMAIL})
    # The next step of the plan (the pupil's J5 pages), not the form again.
    assert done.request.path == "/preferences" and done.status_code == 200, done.request.path
    row = account_row(app, pupil.id)
    assert row.guardian_reset_at is None and row.provisional_password_hash is None
    assert row.state.value == "active" and row.email_verified
    assert "guardian_reset_completed" in audit_actions(app)
    again = Browser(app.test_client())
    assert again.sign_in(pupil.identifier, temporary, profile="pupil").request.path \
        == "/connexion"
    assert again.sign_in(pupil.identifier, NEW_PASSWORD, profile="pupil").request.path \
        == "/preferences"


def test_another_familys_pupil_is_not_found_and_nothing_changes(app, browser, make):
    other = make.family(with_pupils=1)
    _signed_in_family(app, browser, make)
    stranger = other.pupils[0]
    before = account_row(app, stranger.id)
    for action in ("identifiant", "mot-de-passe"):
        page = _post(browser, f"/compte/enfants/{stranger.id}/{action}")
        assert page.status_code == 404
        assert "n'est pas rattaché à votre compte" in unescape(page.text)
        assert stranger.identifier not in page.text and "Enfant0" not in page.text
    # The confirmation page and the confirmed POST: the same refusal, word for word.
    asked = browser.get(f"/compte/enfants/{stranger.id}/mot-de-passe")
    confirmed = browser.submit(f"/compte/enfants/{stranger.id}/mot-de-passe",
                               {"confirm": "1"}, page_html=browser.get("/").text)
    for other in (asked, confirmed):
        assert other.status_code == 404
        assert comparable_404(other.text) == comparable_404(page.text)
        assert stranger.identifier not in other.text and "Enfant0" not in other.text
    missing = _post(browser, "/compte/enfants/999999/mot-de-passe")
    assert missing.status_code == 404
    assert comparable_404(missing.text) == comparable_404(page.text)
    after = account_row(app, stranger.id)
    assert after.password_hash == before.password_hash and after.guardian_reset_at is None
    assert _guardian_events(app) == []


def comparable_404(html: str) -> str:
    return re.sub(r"/enfants/\d+/", "/enfants/N/", re.sub(r'value="[^"]+"', "", html))


def test_a_declined_link_gives_no_power_over_the_pupil(app, browser, make):
    parent = make.account(with_pupils=1)
    records = make_records(app)
    with app.app_context():
        pupil_record = db.session.get(PupilRecord, records.pupil_record_ids[0])
        db.session.add(DeclinedGuardianLink(representative_record_id=records.record_id,
                                            pupil_record_id=pupil_record.id,
                                            school_id=pupil_record.school_id,
                                            account_id=parent.id))
        db.session.commit()
    browser.sign_in(parent.identifier, parent.password)
    declined = records.pupil_account_ids[0]
    assert "Lucas" not in browser.get("/compte/enfants").text
    page = _post(browser, f"/compte/enfants/{declined}/mot-de-passe")
    assert page.status_code == 404 and account_row(app, declined).guardian_reset_at is None
    page = browser.submit(f"/compte/enfants/{declined}/mot-de-passe", {"confirm": "1"},
                          page_html=browser.get("/").text)
    assert page.status_code == 404 and account_row(app, declined).guardian_reset_at is None
    with app.app_context():
        assert db.session.scalar(select(GuardianLink).where(
            GuardianLink.pupil_id == declined)) is None
    assert _guardian_events(app) == []


def make_records(app):
    from ..support.factories import RecordFamilyFactory
    return RecordFamilyFactory()


def test_a_lycee_pupil_manages_their_own_account(app, browser, make):
    family = _signed_in_family(app, browser, make, class_name="2nde B")
    pupil = family.pupils[0]
    listing = unescape(browser.get("/compte/enfants").text)
    assert "Au lycée, votre enfant gère son compte de façon autonome" in listing
    page = _post(browser, f"/compte/enfants/{pupil.id}/mot-de-passe")
    assert page.request.path == "/compte/enfants"
    assert "Votre enfant est au lycée" in unescape(page.text)
    page = browser.submit(f"/compte/enfants/{pupil.id}/mot-de-passe", {"confirm": "1"},
                          page_html=page.text)
    assert page.request.path == "/compte/enfants"
    assert "Votre enfant est au lycée" in unescape(page.text)
    assert account_row(app, pupil.id).guardian_reset_at is None
    assert _guardian_events(app) == []


def test_the_levels_are_configurable(app, browser, make, config):
    config(GUARDIAN_MANAGED_LEVELS=["1d", "6e"])
    family = _signed_in_family(app, browser, make)  # 5e A
    page = _post(browser, f"/compte/enfants/{family.pupils[0].id}/identifiant")
    assert "Votre enfant est au lycée" in unescape(page.text)
    assert _guardian_events(app) == []


def test_a_deactivated_pupil_stays_deactivated(app, browser, make):
    family = _signed_in_family(app, browser, make, state="deactivated")
    pupil = family.pupils[0]
    assert "Seul l'établissement peut réactiver" in unescape(browser.get("/compte/enfants").text)
    page = _post(browser, f"/compte/enfants/{pupil.id}/mot-de-passe")
    assert "seul l'établissement peut le réactiver" in unescape(page.text)
    page = browser.submit(f"/compte/enfants/{pupil.id}/mot-de-passe", {"confirm": "1"},
                          page_html=page.text)
    assert "seul l'établissement peut le réactiver" in unescape(page.text)
    row = account_row(app, pupil.id)
    assert row.state.value == "deactivated" and row.guardian_reset_at is None
    assert _guardian_events(app) == []


def test_an_expired_reauth_asks_the_password_and_changes_nothing(app, browser, make,
                                                                 monkeypatch):
    family = _signed_in_family(app, browser, make)
    pupil = family.pupils[0]
    listing = browser.get("/compte/enfants")
    monkeypatch.setattr(reauth, "time", _Later(3600))
    page = browser.submit(f"/compte/enfants/{pupil.id}/mot-de-passe", {"confirm": "1"},
                          page_html=listing.text)
    assert page.request.path == "/compte/confirmer-mot-de-passe"
    assert "Confirmez votre mot de passe" in page.text
    assert account_row(app, pupil.id).guardian_reset_at is None
    assert _guardian_events(app) == []
    back = browser.submit_page({"password": family.guardian.password})
    assert back.request.path == "/compte/enfants"


def test_a_pupil_has_no_children_page(app, browser, make):
    family = make.family(with_pupils=1)
    pupil = family.pupils[0]
    browser.sign_in(pupil.identifier, pupil.password, profile="pupil", steps=True)
    page = browser.get("/compte/enfants")
    assert page.status_code == 403 and "réservé aux représentants légaux" in page.text


def test_a_forged_post_without_csrf_changes_nothing(app, browser, make, client):
    family = _signed_in_family(app, browser, make)
    pupil = family.pupils[0]
    before = account_row(app, pupil.id)
    response = browser.client.post(f"/compte/enfants/{pupil.id}/mot-de-passe", data={})
    assert response.status_code in (302, 303, 400)
    assert account_row(app, pupil.id).guardian_reset_at is None
    for data in ({"confirm": "1"}, {"confirm": "1", "csrf_token": "forged"}):
        response = browser.client.post(f"/compte/enfants/{pupil.id}/mot-de-passe", data=data)
        assert response.status_code in (302, 303, 400)
        assert "temporary-password" not in response.get_data(as_text=True)
    after = account_row(app, pupil.id)
    assert after.guardian_reset_at is None
    assert after.password_hash == before.password_hash
    assert after.provisional_password_hash == before.provisional_password_hash
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action.like("guardian_%"))) is None

