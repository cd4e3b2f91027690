"""Notification letters: one PDF page per account, fresh provisional passwords that work
once, the previous ones invalidated; selection by school, class or account."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from idp.config import PROJECT_ROOT
from idp.db import db
from idp.models import Account, AccountState
from idp.roster import LetterError, find_school, import_roster, issue_letters

from ..support.cli import run_idp, run_json

SAMPLE = PROJECT_ROOT / "config" / "samples" / "roster_sample.csv"


@pytest.fixture
def school(app, make):
    make.school("0540042A")
    with app.app_context():
        import_roster("0540042A", SAMPLE.read_bytes())
        db.session.commit()


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_letters_for_a_school_one_page_each_in_french(app, school):
    with app.app_context():
        batch = issue_letters(find_school("0540042A"))
        db.session.commit()
        passwords = {l.account.identifier: l.password for l in batch.letters}
        pages = pdf_pages(batch.pdf)
    assert len(pages) == len(passwords) == 8
    sophie = next(p for p in pages if "s.martin" in p)
    assert passwords["s.martin"] in sophie
    assert "Mot de passe provisoire" in sophie and "http://localhost/" in sophie
    assert "représentant légal de Hugo Martin (6e A), Léa Martin (4e B)" in " ".join(sophie.split())
    assert "Rendez-vous à l'adresse" in sophie
    chloe = next(p for p in pages if "c.legallherve" in p)
    assert "Chloé Le Gall-Hervé, élève de 3e A" in chloe and "choisis « Élève »" in chloe
    assert len(set(passwords.values())) == 8 and all(len(p) == 14 for p in passwords.values())


def test_the_letter_password_signs_in_once_and_a_new_letter_replaces_it(app, school, browser):
    with app.app_context():
        first = issue_letters(find_school("0540042A"), account_ref="s.martin")
        db.session.commit()
        stored = db.session.scalar(select(Account.provisional_password_hash)
                                   .where(Account.identifier == "s.martin"))
    old = first.letters[0].password
    assert old not in stored and stored.startswith("sha256$")
    browser.choose()
    assert browser.sign_in("s.martin", old, choose=False).request.path == "/premiere-connexion"
    with app.app_context():
        second = issue_letters(find_school("0540042A"), account_ref="s.martin")
        db.session.commit()
    # The session opened with the old letter ends, and the old password no longer works.
    assert browser.get("/").request.path in ("/connexion", "/choisir-profil")
    assert browser.sign_in("s.martin", old, choose=False).status_code == 400
    page = browser.sign_in("s.martin", second.letters[0].password, choose=False)
    assert page.request.path == "/premiere-connexion"


def test_selection_by_class_and_only_not_yet_active_accounts(app, school, make):
    with app.app_context():
        lea = db.session.scalar(select(Account).where(Account.identifier == "l.martin"))
        lea.state = AccountState.active
        db.session.commit()
        batch = issue_letters(find_school("0540042A"), class_name="4e B")
        assert {l.account.identifier for l in batch.letters} == {"s.martin", "j.martin"}
        with pytest.raises(LetterError):
            issue_letters(find_school("0540042A"), account_ref="nobody")
    other = make.account(identifier="x.ailleurs")
    with app.app_context(), pytest.raises(LetterError):
        issue_letters(find_school("0540042A"), account_ref=other.identifier)


def test_cli_letters_writes_a_private_pdf(settings, school, tmp_path):
    out = tmp_path / "letters.pdf"
    summary = run_json(settings, "roster", "letters", "--school", "0540042A",
                       "--class", "6e A", "--out", str(out))
    assert summary["letters"] == 3 and out.read_bytes().startswith(b"%PDF")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    result = run_idp(settings, "roster", "letters", "--school", "0540042A", "--account",
                     "z.none", "--out", str(tmp_path / "x.pdf"), expect_ok=False)
    assert result.exit_code == 1 and not (tmp_path / "x.pdf").exists()
