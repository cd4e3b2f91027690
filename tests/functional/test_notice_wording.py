"""J5 RP notices, one version in two wordings (as charters): pupils read the "tu" text
published beside the common one (config/notices/pronote-2026-09.eleve.md), parents the
"vous" text; either way the account acknowledges the same version."""
from __future__ import annotations

import html

from idp.config import PROJECT_ROOT
from idp.models import RPNotice, RPNoticeAcknowledgment

from ..support.cli import run_idp, run_json
from ..support.gating import at_rp, authorize

NOTICES = PROJECT_ROOT / "config" / "notices"
COMMON = (NOTICES / "pronote-2026-09.md").read_text(encoding="utf-8")
PUPIL = (NOTICES / "pronote-2026-09.eleve.md").read_text(encoding="utf-8")
TU = "Les messages que tu envoies par PRONOTE sont lus par les personnels"
VOUS = "Les messages que vous envoyez par PRONOTE sont lus par les personnels"


def _notice_page(browser, make, rp, **account):
    made = make.account(**account)
    page = browser.sign_in(made, start=authorize(browser, rp))
    assert page.request.path == "/information-service"
    return made, html.unescape(page.text)


def test_a_pupil_reads_the_tu_wording_of_the_pronote_notice(browser, make, rp, gating):
    notice_id = gating.notice(f"oidc:{rp.client_id}", text=COMMON, pupil_text=PUPIL)
    made, text = _notice_page(browser, make, rp, profile="pupil")
    assert "Informations sur PRONOTE" in text and TU in text
    assert VOUS not in text and "Vous y consultez" not in text and "votre" not in text
    assert "code" in at_rp(browser.submit_page({"acknowledge": "y"}), rp)
    [row] = gating.rows(RPNoticeAcknowledgment, account_id=made.id)
    assert row.notice_id == notice_id  # the same version


def test_a_parent_reads_the_vous_wording_of_the_pronote_notice(browser, make, rp, gating):
    gating.notice(f"oidc:{rp.client_id}", text=COMMON, pupil_text=PUPIL)
    _, text = _notice_page(browser, make, rp)
    assert VOUS in text and TU not in text and "Tu y consultes" not in text


def test_a_pupil_sees_the_common_text_when_the_notice_has_no_pupil_wording(browser, make,
                                                                          rp, gating):
    gating.notice(f"oidc:{rp.client_id}", text=COMMON)
    _, text = _notice_page(browser, make, rp, profile="pupil")
    assert VOUS in text


def test_publishing_reads_the_pupil_wording_beside_the_notice(settings, tmp_path, make,
                                                              gating):
    rp = make.oidc_client(name="PRONOTE", redirect_uris=["https://p.example/cb"])
    key = f"oidc:{rp.client_id}"
    common = tmp_path / "pronote-2026-09.md"
    common.write_text("# Informations\n\nVous consultez vos notes.\n", encoding="utf-8")
    run_json(settings, "notices", "publish", str(common), "--rp", key)  # without pupils'
    pupil = tmp_path / "pronote-2026-09.eleve.md"
    pupil.write_text("# Informations\n\nTu consultes tes notes.\n", encoding="utf-8")
    # Added to the version already published: nothing to acknowledge again.
    assert run_json(settings, "notices", "publish", str(common), "--rp", key)["created"] is False
    [row] = gating.rows(RPNotice)
    assert row.body == "Vous consultez vos notes."
    assert row.pupil_body == "Tu consultes tes notes."
    assert "rp_notice_pupil_wording_added" in gating.actions()
    [listed] = run_json(settings, "notices", "list")["notices"]
    assert listed["pupil_wording"] is True

    pupil.write_text("# Informations\n\nTu consultes toutes tes notes.\n", encoding="utf-8")
    result = run_idp(settings, "notices", "publish", str(common), "--rp", key, expect_ok=False)
    assert result.exit_code == 1 and "already has a different pupils' wording" in result.output
    result = run_idp(settings, "notices", "publish", str(pupil), "--rp", key, expect_ok=False)
    assert result.exit_code == 1 and "publish pronote-2026-09.md" in result.output
    [row] = gating.rows(RPNotice)
    assert row.pupil_body == "Tu consultes tes notes."
