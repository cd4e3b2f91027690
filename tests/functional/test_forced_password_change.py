"""Forced password change campaigns (issue 17, point 3): the CLI counts (--dry-run
--json) and forces a population; at the next sign-in the family is told why and chooses a
new password (policy, not the old one); every other session and refresh token ends;
progress is forced / done / remaining; nothing reveals another account."""
from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

from sqlalchemy import select

from idp.db import db
from idp.models import Account, AuditEvent, RefreshToken

from ..support.cli import run_idp, run_json

NEW_PASSWORD = "Trousse-Verte-2027"
FORM = "/connexion/nouveau-mot-de-passe"


def _force(settings, uai, *extra):
    return run_json(settings, "security", "force-password-change", "--uai", uai, *extra)


def test_dry_run_counts_and_leaves_out_never_activated_accounts(settings, make):
    uai = "0549901A"
    make.account(school_uai=uai)
    make.account(school_uai=uai, pupil=True)
    make.account(school_uai=uai, provisional=True)
    make.account(school_uai=uai, deactivated=True)
    make.account(school_uai="0549902B")
    counts = _force(settings, uai, "--dry-run")
    assert (counts["dry_run"], counts["accounts"], counts["parents"], counts["pupils"]) == \
        (True, 2, 1, 1)
    assert _force(settings, uai, "--dry-run", "--profile", "pupil")["accounts"] == 1
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert _force(settings, uai, "--dry-run", "--changed-before", tomorrow)["accounts"] == 2
    assert _force(settings, uai, "--dry-run", "--changed-before", "2020-01-01")["accounts"] == 0
    assert _force(settings, uai, "--dry-run", "--academy", "reims")["accounts"] == 0
    bad = run_idp(settings, "security", "force-password-change", "--changed-before",
                  "demain", expect_ok=False)
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.output


def test_the_forced_family_chooses_a_new_password_and_other_sessions_end(
        app, settings, browser, make, flow, rp):
    uai = "0549903C"
    parent = make.account(school_uai=uai)
    other = type(browser)(app.test_client())
    assert other.sign_in(parent).request.path == "/"
    tokens = flow.tokens_for(rp, parent)
    result = _force(settings, uai)
    assert result["forced"] == 1
    # Forced twice: nobody is counted again while the first demand is open.
    assert _force(settings, uai, "--dry-run")["accounts"] == 0

    page = browser.sign_in(parent)
    assert page.request.path == FORM
    text = unescape(page.text)
    assert "Pour protéger votre compte, vous devez choisir un nouveau mot de passe." in text
    assert browser.get("/").request.path == FORM  # nothing else before it
    for new, message in ((parent.password, "différent de l'ancien"),
                         ("Azerty123!", "Ce mot de passe est trop courant."),
                         ("court", "8 caractères minimum.")):
        page = browser.submit_page({"password": new, "password_confirm": new})
        assert page.status_code == 400 and message in unescape(page.text), message
    page = browser.submit_page({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert page.request.path == "/"
    assert other.get("/").request.path != "/"  # the other session ended
    refreshed = app.test_client().post("/oidc/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(rp.client_id, rp.client_secret))
    assert refreshed.status_code == 400
    with app.app_context():
        assert all(t.revoked for t in db.session.scalars(select(RefreshToken)))
        account = db.session.get(Account, parent.id)
        assert account.password_changed_at is not None
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "password_campaign_started" in actions and "forced_password_changed" in actions
    [row] = run_json(settings, "security", "campaigns", "--campaign",
                     str(result["campaign"]))["campaigns"]
    assert (row["forced"], row["done"], row["remaining"]) == (1, 1, 0)
    # Signed in again: no more demand.
    fresh = type(browser)(app.test_client())
    assert fresh.sign_in(parent.identifier, NEW_PASSWORD).request.path == "/"


def test_a_pupil_is_told_with_tu(app, settings, browser, make):
    uai = "0549904D"
    pupil = make.account(school_uai=uai, pupil=True)
    _force(settings, uai)
    page = browser.sign_in(pupil)
    assert page.request.path == FORM
    assert "Pour protéger ton compte, tu dois choisir un nouveau mot de passe." \
        in unescape(page.text)


def test_the_console_counts_confirms_forces_and_shows_progress(app, browser, make):
    from ..support.admin import console_sign_in, make_staff

    uai = "0549905E"
    make.account(school_uai=uai)
    make.account(school_uai=uai, pupil=True)
    console_sign_in(browser, make_staff(app, "ops.campagne"))
    page = browser.get("/admin/campagnes-mot-de-passe")
    assert page.status_code == 200
    fields = {"uai": uai, "profile": "", "academy": "", "changed_before": ""}
    counted = browser.submit("/admin/campagnes-mot-de-passe", {**fields, "action": "count"})
    text = unescape(counted.text)
    assert "2 comptes concernés (représentants légaux : 1, élèves : 1)." in text
    # A confirmation that does not repeat the current count forces nothing.
    stale = browser.submit("/admin/campagnes-mot-de-passe",
                           {**fields, "action": "force", "expected": "5"},
                           page_html=counted.text)
    assert "Le nombre de comptes a changé" in unescape(stale.text)
    done = browser.submit("/admin/campagnes-mot-de-passe",
                          {**fields, "action": "force", "expected": "2"},
                          page_html=counted.text)
    text = unescape(done.text)
    assert "2 comptes devront choisir un nouveau mot de passe" in text
    assert "UAI : " + uai in text and "uai = " not in text  # criteria named in French
    assert re.search(r"<td>\d\d/\d\d/\d{4} \d\d:\d\d</td>", done.text)  # dd/mm/yyyy
    bad = browser.submit("/admin/campagnes-mot-de-passe",
                         {**fields, "uai": "pas un uai", "action": "count"})
    assert bad.status_code == 400 and "Un UAI : 7 chiffres et une lettre." in unescape(bad.text)
    unknown = browser.submit("/admin/campagnes-mot-de-passe",
                             {**fields, "academy": "nulle-part", "action": "count"})
    assert unknown.status_code == 400
    assert "Académie inconnue : saisissez son code" in unescape(unknown.text)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.actor).where(
            AuditEvent.action == "password_campaign_started").order_by(
                AuditEvent.id.desc()).limit(1)) == "staff:ops.campagne"


def test_a_one_account_campaign_says_compte_in_the_singular(app, browser, make):
    from ..support.admin import console_sign_in, make_staff

    uai = "0549906F"
    make.account(school_uai=uai)
    console_sign_in(browser, make_staff(app, "ops.campagne1"))
    browser.get("/admin/campagnes-mot-de-passe")
    fields = {"uai": uai, "profile": "parent", "academy": "", "changed_before": ""}
    counted = browser.submit("/admin/campagnes-mot-de-passe", {**fields, "action": "count"})
    done = browser.submit("/admin/campagnes-mot-de-passe",
                          {**fields, "action": "force", "expected": "1"},
                          page_html=counted.text)
    text = unescape(done.text)
    assert "1 compte devra choisir un nouveau mot de passe à sa prochaine connexion." in text
    assert "Profil : représentants légaux" in text
