"""J5 charter of use (seed 003): shown before any service, accepted with its version and
time, asked again for a new version, an RP's own charter; published by administrators."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from idp.models import CharterAcceptance, CharterVersion

from ..support.cli import run_idp, run_json
from ..support.gating import at_rp, authorize

ACCEPT = "j'ai lu et j'accepte les conditions ci-dessus"


def test_charter_comes_before_the_code_and_is_recorded(browser, make, rp, gating):
    charter_id = gating.charter()
    account = make.account(charter_accepted=False)
    page = browser.sign_in(account, start=authorize(browser, rp))
    assert page.request.path == "/charte"
    assert ACCEPT in page.text and "Valider" in page.text
    assert "Charte d&#39;utilisation de test" in page.text and "Version 2026-09" in page.text
    assert "<strong>règle importante</strong>" in page.text and "<li>premier engagement ;</li>" in page.text
    assert 'aria-current="step"' in page.text  # 1 Charte d'utilisation, 2 Contact...

    # Not ticked: a message beside the box, nothing recorded, no code.
    refused = browser.submit_page({}, follow=False)
    assert refused.status_code == 400
    assert "Cochez la case pour accepter la charte d'utilisation." in refused.text
    assert 'id="accept-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert gating.rows(CharterAcceptance) == []

    browser.page = refused
    before = datetime.now(timezone.utc)
    response = browser.submit_page({"accept": "y"})
    assert "code" in at_rp(response, rp)
    [accepted] = gating.rows(CharterAcceptance, account_id=account.id)
    assert accepted.charter_version_id == charter_id
    when = accepted.accepted_at.replace(tzinfo=accepted.accepted_at.tzinfo or timezone.utc)
    assert before - timedelta(seconds=5) <= when <= datetime.now(timezone.utc)
    assert "charter_accepted" in gating.actions()


def test_charter_is_asked_once(browser, make, rp, gating):
    gating.charter()
    account = make.account(charter_accepted=False)
    browser.sign_in(account, start=authorize(browser, rp))
    assert at_rp(browser.submit_page({"accept": "y"}), rp)
    browser.logout()
    assert at_rp(browser.sign_in(account, start=authorize(browser, rp)), rp)  # straight to the code


def test_a_new_version_is_asked_at_the_next_sign_in(browser, make, rp, gating):
    gating.charter("2026-09")
    account = make.account()  # accepted 2026-09
    assert browser.sign_in(account.identifier, account.password).request.path == "/"
    browser.logout()
    gating.charter("2027-01", text="# Charte 2027\n\nNouvelle règle sur les messages.\n")
    page = browser.sign_in(account, start=authorize(browser, rp))
    assert page.request.path == "/charte" and "Nouvelle règle sur les messages." in page.text
    assert "Version 2027-01" in page.text
    assert at_rp(browser.submit_page({"accept": "y"}), rp)
    versions = {r.charter_version_id for r in gating.rows(CharterAcceptance, account_id=account.id)}
    assert len(versions) == 2


def test_a_signed_in_family_meets_a_new_version_before_its_home_page(browser, make, gating):
    account = make.account()
    browser.sign_in(account.identifier, account.password)
    gating.charter("2027-01")
    page = browser.get("/")
    assert page.request.path == "/charte"
    assert browser.submit_page({"accept": "y"}).request.path == "/"


def test_an_rp_may_require_a_charter_of_its_own(browser, make, rp, gating):
    gating.charter("2026-09")
    gating.charter("2026-10", text="# Charte de l'ENT\n\nRègles propres à l'ENT.\n",
                   rp_key=f"oidc:{rp.client_id}")
    account = make.account(charter_accepted=False)
    page = browser.sign_in(account, start=authorize(browser, rp))
    assert "Charte d&#39;utilisation de test" in page.text  # the general one first
    page = browser.submit_page({"accept": "y"})
    assert page.request.path == "/charte" and "Règles propres à l&#39;ENT." in page.text
    assert f"Charte d'utilisation de {rp.name}" in page.text
    assert at_rp(browser.submit_page({"accept": "y"}), rp)
    # Another RP does not ask for the ENT's charter.
    other = make.oidc_client(redirect_uris=["https://pronote.example/cb"])
    assert at_rp(browser.sign_in(account, start=authorize(browser, other)), other)


def test_a_version_published_while_reading_is_not_accepted_blindly(browser, make, gating):
    gating.charter("2026-09")
    account = make.account(charter_accepted=False)
    page = browser.sign_in(account.identifier, account.password)
    assert page.request.path == "/charte"
    new_id = gating.charter("2027-01", text="# Charte 2027\n\nTexte changé.\n")
    response = browser.submit_page({"accept": "y"}, follow=False)  # the 2026-09 page
    assert response.status_code == 400
    assert "La charte a été mise à jour" in response.text and "Texte changé." in response.text
    assert gating.rows(CharterAcceptance) == []
    browser.page = response
    assert browser.submit_page({"accept": "y"}).request.path == "/"
    assert [a.charter_version_id for a in gating.rows(CharterAcceptance)] == [new_id]


def test_charter_text_is_escaped(browser, make, gating):
    gating.charter(text="# Titre <b>gras</b>\n\n<script>alert(1)</script> **<i>x</i>**\n")
    account = make.account(charter_accepted=False)
    page = browser.sign_in(account.identifier, account.password)
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<strong>&lt;i&gt;x&lt;/i&gt;</strong>" in page.text


def test_charter_page_out_of_turn_sends_to_the_plan(browser, make, gating):
    gating.charter()
    assert browser.get("/charte").request.path == "/choisir-profil"  # not signed in
    account = make.account()  # already accepted
    browser.sign_in(account.identifier, account.password)
    assert browser.get("/charte").request.path == "/"


def test_publish_and_list_from_the_command_line(settings, tmp_path, make, rp):
    text = tmp_path / "general-2026-09.md"
    text.write_text("# Charte générale\n\nArticle premier.\n", encoding="utf-8")
    data = run_json(settings, "charter", "publish", str(text))
    assert data == {"audience": "general", "version": "2026-09", "title": "Charte générale",
                    "created": True}
    assert run_json(settings, "charter", "publish", str(text))["created"] is False  # same file
    own = tmp_path / "ent-2026-10.md"
    own.write_text("# Charte ENT\n\nRègles.\n", encoding="utf-8")
    data = run_json(settings, "charter", "publish", str(own), "--rp", f"oidc:{rp.client_id}")
    assert data["audience"] == f"oidc:{rp.client_id}" and data["version"] == "2026-10"
    listed = run_json(settings, "charter", "list")["charters"]
    assert {(c["audience"], c["version"], c["current"]) for c in listed} == {
        ("general", "2026-09", True), (f"oidc:{rp.client_id}", "2026-10", True)}


def test_publishing_refuses_bad_input_with_a_reason(settings, tmp_path, app, gating):
    text = tmp_path / "general-2026-09.md"
    text.write_text("# Charte\n\nArticle premier.\n", encoding="utf-8")
    run_idp(settings, "charter", "publish", str(text))
    text.write_text("# Charte\n\nArticle premier, modifié.\n", encoding="utf-8")
    result = run_idp(settings, "charter", "publish", str(text), expect_ok=False)
    assert result.exit_code == 1 and "already published with a different text" in result.output
    latin1 = tmp_path / "general-2027-01.md"
    latin1.write_bytes("# Charte\n\nRègles de l'établissement.\n".encode("cp1252"))
    result = run_idp(settings, "charter", "publish", str(latin1), expect_ok=False)
    assert result.exit_code == 1 and "not UTF-8" in result.output
    empty = tmp_path / "general-2027-02.md"
    empty.write_text("# Charte\n\n", encoding="utf-8")
    assert "has no text" in run_idp(settings, "charter", "publish", str(empty),
                                    expect_ok=False).output
    result = run_idp(settings, "charter", "publish", str(latin1), "--rp", "oidc:nobody",
                     expect_ok=False)
    assert result.exit_code == 1 and "no relying party" in result.output
    missing = run_idp(settings, "charter", "publish", str(tmp_path / "none.md"), expect_ok=False)
    assert missing.exit_code == 1 and "cannot read" in missing.output
    assert [c.version for c in gating.rows(CharterVersion)] == ["2026-09"]


# -- RP notices (PRONOTE's "j'ai pris connaissance de ces informations") ----------------
def test_an_rp_notice_is_acknowledged_once_per_account_and_version(browser, make, rp, gating):
    from idp.models import RPNoticeAcknowledgment

    gating.notice(f"oidc:{rp.client_id}", "2026-09",
                  "# Informations sur PRONOTE\n\nPRONOTE affiche les notes et les absences.\n")
    account = make.account()
    page = browser.sign_in(account, start=authorize(browser, rp))
    assert page.request.path == "/information-service"
    assert "Informations sur PRONOTE" in page.text and "les notes et les absences" in page.text
    assert "J'ai pris connaissance de ces informations" in page.text
    assert f"Accéder à {rp.name}" in page.text
    refused = browser.submit_page({}, follow=False)
    assert refused.status_code == 400 and 'id="acknowledge-error"' in refused.text
    browser.page = refused
    assert "code" in at_rp(browser.submit_page({"acknowledge": "y"}), rp)
    assert len(gating.rows(RPNoticeAcknowledgment, account_id=account.id)) == 1
    assert at_rp(browser.sign_in(account, start=authorize(browser, rp)), rp)  # once
    # Another RP has no notice; a new version of this one is acknowledged again.
    other = make.oidc_client(redirect_uris=["https://ent.example/cb"])
    assert at_rp(browser.sign_in(account, start=authorize(browser, other)), other)
    gating.notice(f"oidc:{rp.client_id}", "2027-01", "# Informations\n\nNouveautés.\n")
    assert browser.sign_in(account, start=authorize(browser, rp)).request.path == "/information-service"


def test_an_rp_notice_says_tu_to_a_pupil_when_the_box_is_not_ticked(browser, make, rp, gating):
    """Found by the Chromium walk: a pupil read "Cochez la case pour indiquer que vous avez
    pris connaissance de ces informations."."""
    gating.notice(f"oidc:{rp.client_id}", "2026-09",
                  "# Informations sur PRONOTE\n\nPRONOTE affiche les notes et les absences.\n")
    pupil = make.account(profile="pupil")
    page = browser.sign_in(pupil, start=authorize(browser, rp))
    assert page.request.path == "/information-service"
    refused = browser.submit_page({}, follow=False)
    assert refused.status_code == 400
    assert ("Coche la case pour indiquer que tu as pris connaissance de ces informations."
            in refused.text)
    assert "Cochez" not in refused.text
    browser.page = refused
    assert "code" in at_rp(browser.submit_page({"acknowledge": "y"}), rp)


def test_notices_and_trust_from_the_command_line(settings, tmp_path, make):
    rp = make.oidc_client(name="PRONOTE", trusted=False, redirect_uris=["https://p.example/cb"])
    text = tmp_path / "pronote-2026-09.md"
    text.write_text("# Informations\n\nPRONOTE.\n", encoding="utf-8")
    data = run_json(settings, "notices", "publish", str(text), "--rp", f"oidc:{rp.client_id}")
    assert data == {"rp": f"oidc:{rp.client_id}", "version": "2026-09", "title": "Informations",
                    "created": True}
    [listed] = run_json(settings, "notices", "list")["notices"]
    assert listed["acknowledgments"] == 0 and listed["current"] is True
    assert run_idp(settings, "notices", "publish", str(text), expect_ok=False).exit_code == 2
    trusted = run_json(settings, "clients", "trust", f"oidc:{rp.client_id}")
    assert trusted == {"rp": f"oidc:{rp.client_id}", "name": "PRONOTE", "trusted": True}
    assert run_json(settings, "clients", "trust", f"oidc:{rp.client_id}", "--no")["trusted"] is False
    result = run_idp(settings, "clients", "trust", "oidc:inconnu", expect_ok=False)
    assert result.exit_code == 1 and "no relying party" in result.output
