"""J5 charter of use, one version in two wordings: pupils read the "tu" text published
beside the common one (config/charter/general-2026-09.eleve.md), parents the "vous" text;
either way the account accepts the same version."""
from __future__ import annotations

import html

from sqlalchemy import select

from idp.config import PROJECT_ROOT
from idp.db import db
from idp.models import AuditEvent, CharterAcceptance, CharterVersion

from ..support.cli import run_idp, run_json

CHARTERS = PROJECT_ROOT / "config" / "charter"
COMMON = (CHARTERS / "general-2026-09.md").read_text(encoding="utf-8")
PUPIL = (CHARTERS / "general-2026-09.eleve.md").read_text(encoding="utf-8")
TU = "Tes parents utilisent leur propre compte, et non le tien."
VOUS = "Un représentant légal utilise son propre compte, et non celui de son enfant."


def _charter_page(browser, make, **account):
    made = make.account(charter_accepted=False, **account)
    page = browser.sign_in(made)
    assert page.request.path == "/charte"
    return made, page, html.unescape(page.text)


def _accepted(gating, made, charter_id):
    [accepted] = gating.rows(CharterAcceptance, account_id=made.id)
    assert accepted.charter_version_id == charter_id
    with gating.app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "charter_accepted", AuditEvent.actor == made.identifier))
        assert event.details["version"] == "2026-09"


def test_a_pupil_reads_the_tu_wording_and_accepts_the_same_version(browser, make, gating):
    charter_id = gating.charter(text=COMMON, pupil_text=PUPIL)
    made, page, text = _charter_page(browser, make, pupil=True)
    assert TU in text and "déconnecte-toi à la fin de chaque utilisation" in text
    assert "## 3. Ton compte" not in text and "<h3>3. Ton compte</h3>" in page.text
    assert VOUS not in text and "déconnectez-vous" not in text and "Votre compte" not in text
    assert "Charte d'utilisation de Connexion Scolarité" in text and "Version 2026-09" in text

    refused = browser.submit_page({}, follow=False)
    assert refused.status_code == 400
    refused_text = html.unescape(refused.text)
    assert "Coche la case pour accepter la charte d'utilisation." in refused_text
    assert "Cochez" not in refused_text and TU in refused_text
    assert gating.rows(CharterAcceptance) == []

    browser.page = refused
    assert browser.submit_page({"accept": "y"}).request.path == "/"
    _accepted(gating, made, charter_id)
    assert len(gating.rows(CharterVersion)) == 1  # one version, two wordings


def test_a_parent_reads_the_vous_text_of_the_same_version(browser, make, gating):
    charter_id = gating.charter(text=COMMON, pupil_text=PUPIL)
    made, page, text = _charter_page(browser, make)
    assert VOUS in text and "déconnectez-vous à la fin de chaque utilisation" in text
    assert TU not in text and "déconnecte-toi" not in text and "Ton compte" not in text
    refused = browser.submit_page({}, follow=False)
    assert refused.status_code == 400
    assert "Cochez la case pour accepter la charte d'utilisation." in html.unescape(refused.text)
    browser.page = refused
    assert browser.submit_page({"accept": "y"}).request.path == "/"
    _accepted(gating, made, charter_id)


def test_a_pupil_sees_the_common_text_when_the_version_has_no_pupil_wording(browser, make,
                                                                           gating):
    charter_id = gating.charter(text=COMMON)
    made, _, text = _charter_page(browser, make, pupil=True)
    assert VOUS in text and TU not in text
    assert browser.submit_page({"accept": "y"}).request.path == "/"
    _accepted(gating, made, charter_id)


def test_a_pupil_is_told_with_tu_that_the_charter_changed(browser, make, gating):
    gating.charter(text=COMMON, pupil_text=PUPIL)
    _charter_page(browser, make, pupil=True)
    new_id = gating.charter("2027-01", text="# Charte 2027\n\nVous respectez les règles.\n",
                            pupil_text="# Charte 2027\n\nTu respectes les règles.\n")
    response = browser.submit_page({"accept": "y"}, follow=False)  # the 2026-09 page
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert "La charte a été mise à jour : lis cette nouvelle version avant de l'accepter." in text
    assert "Tu respectes les règles." in text and "Vous respectez" not in text
    browser.page = response
    assert browser.submit_page({"accept": "y"}).request.path == "/"
    assert [a.charter_version_id for a in gating.rows(CharterAcceptance)] == [new_id]


def test_publishing_reads_the_pupil_wording_beside_the_charter(settings, tmp_path, gating):
    common = tmp_path / "general-2026-09.md"
    common.write_text("# Charte\n\nVous respectez les règles.\n", encoding="utf-8")
    run_json(settings, "charter", "publish", str(common))  # first without pupil wording
    pupil = tmp_path / "general-2026-09.eleve.md"
    pupil.write_text("# Charte\n\nTu respectes les règles.\n", encoding="utf-8")
    # Added to the version already published: no new version, nothing to accept again.
    assert run_json(settings, "charter", "publish", str(common))["created"] is False
    [row] = gating.rows(CharterVersion)
    assert row.version == "2026-09" and row.body == "Vous respectez les règles."
    assert row.pupil_body == "Tu respectes les règles."
    assert "charter_pupil_wording_added" in gating.actions()
    [listed] = run_json(settings, "charter", "list")["charters"]
    assert listed["pupil_wording"] is True
    assert run_json(settings, "charter", "publish", str(common))["created"] is False  # same

    pupil.write_text("# Charte\n\nTu respectes toutes les règles.\n", encoding="utf-8")
    result = run_idp(settings, "charter", "publish", str(common), expect_ok=False)
    assert result.exit_code == 1 and "already has a different pupils' wording" in result.output
    result = run_idp(settings, "charter", "publish", str(pupil), expect_ok=False)
    assert result.exit_code == 1 and "publish general-2026-09.md" in result.output
    later = tmp_path / "general-2027-01.md"
    later.write_text("# Charte\n\nRègles.\n", encoding="utf-8")
    (tmp_path / "general-2027-01.eleve.md").write_text("# Autre titre\n\nRègles.\n",
                                                       encoding="utf-8")
    result = run_idp(settings, "charter", "publish", str(later), expect_ok=False)
    assert result.exit_code == 1 and "keeps the title of the version" in result.output
    [row] = gating.rows(CharterVersion)
    assert row.pupil_body == "Tu respectes les règles."
