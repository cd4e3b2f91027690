"""Roster import: records and provisional accounts from a school's CSV, idempotent, with
a report naming each rejected line; bad files write nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from idp.config import PROJECT_ROOT
from idp.db import db
from idp.models import (Account, AccountState, GuardianLink, PupilRecord, RecordGuardianLink,
                        RepresentativeRecord, RosterImport)
from idp.roster import UnknownSchool, allocate_identifier, import_roster

from ..support.cli import run_idp, run_json

SAMPLE = PROJECT_ROOT / "config" / "samples" / "roster_sample.csv"
HEADER = ("ine;nom;prenom;date_naissance;classe;resp1_nom;resp1_prenom;resp1_telephone;"
          "resp1_email;resp2_nom;resp2_prenom;resp2_telephone;resp2_email\n")
UAI = "0540042A"


def csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode("utf-8")


def counts() -> dict:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Account, PupilRecord, RepresentativeRecord, RecordGuardianLink,
                          GuardianLink)}


@pytest.fixture
def school(make):
    make.school(UAI)
    return UAI


def run_import(app, data: bytes, **kwargs):
    with app.app_context():
        report = import_roster(UAI, data, **kwargs)
        db.session.commit()
        return report


def test_sample_file_creates_records_accounts_and_links(app, school):
    report = run_import(app, SAMPLE.read_bytes())
    assert report.file_error is None and report.errors == []
    assert (report.rows, report.created, report.rejected) == (4, 4, 0)
    assert report.accounts_created == 4 + 4  # 4 pupils, 4 representatives (siblings share)
    with app.app_context():
        accounts = {a.identifier: a for a in db.session.scalars(select(Account))}
        assert {"l.martin", "h.martin", "c.legallherve", "m.ndiaye", "s.martin", "j.martin",
                "a.legall", "a.ndiaye"} == set(accounts)
        assert all(a.state == AccountState.provisional for a in accounts.values())
        sophie = accounts["s.martin"]
        assert sophie.phone == "+33612345678" and sophie.email == "sophie.martin@example.org"
        assert accounts["a.ndiaye"].phone == "+590690123456"  # Guadeloupe, written 0690...
        assert accounts["l.martin"].birth_date.isoformat() == "2012-03-14"
        assert accounts["l.martin"].class_name == "4e B"
        pupils_of_sophie = db.session.scalars(select(GuardianLink.pupil_id).where(
            GuardianLink.guardian_id == sophie.id)).all()
        assert sorted(pupils_of_sophie) == sorted([accounts["l.martin"].id,
                                                   accounts["h.martin"].id])
        assert db.session.scalar(select(func.count()).select_from(RosterImport)) == 1


def test_reimport_changes_nothing_and_never_duplicates(app, school):
    run_import(app, SAMPLE.read_bytes())
    with app.app_context():
        before = counts()
    again = run_import(app, SAMPLE.read_bytes())
    assert (again.created, again.updated, again.unchanged, again.accounts_created) == (0, 0, 4, 0)
    with app.app_context():
        assert counts() == before


def test_changed_rows_update_records_and_accounts(app, school):
    run_import(app, SAMPLE.read_bytes())
    changed = SAMPLE.read_text().replace("14/03/2012;4e B", "14/03/2012;3e B") \
        .replace("06 98 76 54 32", "07 81 00 00 01")
    report = run_import(app, changed.encode())
    assert (report.updated, report.unchanged, report.created) == (2, 2, 0)
    with app.app_context():
        lea = db.session.scalar(select(Account).where(Account.identifier == "l.martin"))
        assert lea.class_name == "3e B"
        julien = db.session.scalar(select(Account).where(Account.identifier == "j.martin"))
        assert julien.phone == "+33781000001"
        assert db.session.scalar(select(func.count()).select_from(RepresentativeRecord)) == 4


def test_a_representative_dropped_from_a_pupil_loses_the_link(app, school):
    run_import(app, SAMPLE.read_bytes())
    lines = SAMPLE.read_text().splitlines()
    lines[2] = lines[2].replace(";Martin;Julien;06 98 76 54 32;", ";;;;")  # Hugo: Sophie only
    report = run_import(app, ("\n".join(lines) + "\n").encode())
    assert report.updated == 1
    with app.app_context():
        ids = {a.identifier: a.id for a in db.session.scalars(select(Account))}
        links = set(db.session.execute(select(GuardianLink.guardian_id, GuardianLink.pupil_id)))
        assert (ids["j.martin"], ids["h.martin"]) not in links
        assert (ids["j.martin"], ids["l.martin"]) in links
        assert (ids["s.martin"], ids["h.martin"]) in links


def test_a_link_the_family_declined_is_not_made_again(app, school):
    """J4: "je ne représente pas légalement cet élève" outlives re-imports."""
    from idp.models import DeclinedGuardianLink

    run_import(app, SAMPLE.read_bytes())
    with app.app_context():
        ids = {a.identifier: a.id for a in db.session.scalars(select(Account))}
        julien = db.session.scalar(select(RepresentativeRecord).where(
            RepresentativeRecord.account_id == ids["j.martin"]))
        hugo = db.session.scalar(select(PupilRecord).where(
            PupilRecord.account_id == ids["h.martin"]))
        db.session.add(DeclinedGuardianLink(representative_record_id=julien.id,
                                            pupil_record_id=hugo.id,
                                            school_id=hugo.school_id,
                                            account_id=ids["j.martin"]))
        db.session.execute(delete(GuardianLink).where(
            GuardianLink.guardian_id == ids["j.martin"],
            GuardianLink.pupil_id == ids["h.martin"]))
        db.session.commit()
    run_import(app, SAMPLE.read_bytes())
    with app.app_context():
        links = set(db.session.execute(select(GuardianLink.guardian_id, GuardianLink.pupil_id)))
        assert (ids["j.martin"], ids["h.martin"]) not in links
        assert (ids["j.martin"], ids["l.martin"]) in links  # the other child stays linked
        assert (ids["s.martin"], ids["h.martin"]) in links


def test_identifiers_are_unique_across_the_idp(app, school, make):
    make.account(identifier="l.martin", first_name="Lucie", last_name="Martin")
    report = run_import(app, csv("1111111111A;Martin;Léa;14/03/2012;4e B;;;;;;;;",
                                 "1111111112B;MARTIN;Louis;01/01/2013;5e A;;;;;;;;",
                                 "1111111113C;Müller-Ødegård;Œdipe;02/02/2012;5e A;;;;;;;;"))
    assert report.created == 3
    with app.app_context():
        identifiers = set(db.session.scalars(select(Account.identifier)))
        assert {"l.martin", "l.martin1", "l.martin2", "o.mullerodegard"} <= identifiers
        assert allocate_identifier("Léon", "Martin") == "l.martin3"


def test_windows_1252_file_is_read_with_its_accents(app, school):
    data = csv("1111111111A;Hervé;Zoé;14/03/2012;4e B;Hervé;Gaëlle;06 12 34 56 78;;;;;")
    report = run_import(app, data.decode().encode("cp1252"))
    assert report.encoding == "windows-1252" and report.created == 1
    with app.app_context():
        pupil = db.session.scalar(select(PupilRecord))
        assert (pupil.first_name, pupil.last_name) == ("Zoé", "Hervé")


def test_double_encoded_utf8_is_repaired(app, school):
    data = csv("1111111111A;Hervé;Zoé;14/03/2012;4e B;;;;;;;;")
    mangled = data.decode().encode("utf-8").decode("cp1252").encode("utf-8")
    report = run_import(app, mangled)
    assert report.encoding_repaired and report.created == 1
    with app.app_context():
        assert db.session.scalar(select(PupilRecord.last_name)) == "Hervé"


@pytest.mark.parametrize("data, message", [
    (b"ine;nom;prenom;classe\n1111111111A;A;B;4e\n", "Colonne manquante : date_naissance"),
    (b"PK\x03\x04rest-of-a-zip", "classeur"),
    (b"", "vide"),
    (b"ine nom prenom\n", "Séparateur introuvable"),
    (b"ine;nom;nom;prenom;date_naissance;classe\n", "Colonne en double : nom"),
])
def test_bad_files_are_refused_whole_and_write_nothing(app, school, data, message):
    report = run_import(app, data)
    assert report.file_error and message in report.file_error
    with app.app_context():
        assert counts()["accounts"] == 0
        assert db.session.scalar(select(func.count()).select_from(RosterImport)) == 0


def test_bad_rows_are_reported_by_line_and_good_rows_imported(app, school):
    report = run_import(app, csv(
        "1111111111A;Durand;Léo;14/03/2012;4e B;Durand;Marie;06 12 34 56 78;;;;;",
        "1111111112B;Durand;Emma;31/02/2014;6e A;;;;;;;;",
        "1111111113C;Petit;Jules;01/01/2013;5e A;Petit;Anne;12 34;;;;;",
        "BAD;Petit;Paul;01/01/2013;5e A;;;;;;;;",
        "1111111111A;Durand;Léo;14/03/2012;4e B;;;;;;;;",
        "1111111114D;;Sans;01/01/2013;5e A;;;;;;;;",
        "1111111115E;Roux;Lina;01/01/2013;5e A;Roux;Paul;;pas-une-adresse;;;;",
        "1111111116F;Roux;Tom;01/01/2013;;;;;;;;;",
        "1111111117G;Faure;Noé;01/01/2013;5e A;;;;;;;;;extra;extra"))
    assert (report.created, report.rejected) == (1, 8)
    by_line = {e["line"]: e for e in report.errors}
    assert "Date de naissance invalide « 31/02/2014 »" in by_line[3]["reason"]
    assert by_line[4]["column"] == "resp1_telephone" and "« 12 34 »" in by_line[4]["reason"]
    assert "INE invalide" in by_line[5]["reason"]
    assert "déjà présent ligne 2" in by_line[6]["reason"]
    assert by_line[7]["reason"] == "Nom manquant."
    assert "Adresse mail du représentant 1 invalide" in by_line[8]["reason"]
    assert by_line[9]["reason"] == "Classe manquante."
    assert "Plus de valeurs que de colonnes" in by_line[10]["reason"]
    with app.app_context():
        assert set(db.session.scalars(select(Account.identifier))) == {"l.durand", "m.durand"}


def test_dry_run_counts_and_writes_nothing(app, school):
    report = run_import(app, SAMPLE.read_bytes(), dry_run=True)
    assert (report.created, report.accounts_created) == (4, 8)
    with app.app_context():
        assert counts()["accounts"] == 0


def test_header_spellings_and_comma_separator(app, school):
    data = ("INE,Nom,Prénom,Date de naissance,Division,Responsable1 Nom,Responsable1 Prénom\n"
            "1111111111A,Durand,Léo,14/03/2012,4e B,Durand,Marie\n").encode()
    report = run_import(app, data)
    assert report.delimiter == "," and report.created == 1 and report.accounts_created == 2


def test_unknown_school_is_refused(app):
    with app.app_context(), pytest.raises(UnknownSchool):
        import_roster("9999999Z", SAMPLE.read_bytes())


def test_cli_add_school_import_and_report(settings, tmp_path):
    run_idp(settings, "roster", "add-school", "--uai", "0570001B", "--name",
            "Lycée Robert Schuman", "--academy", "nancy-metz")
    report = run_json(settings, "roster", "import", "--school", "0570001B", str(SAMPLE))
    assert report["created"] == 4 and report["rejected"] == 0
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"ine;nom\n1;2\n")
    result = run_idp(settings, "roster", "import", "--school", "0570001B", str(bad),
                     expect_ok=False)
    assert result.exit_code == 1 and "Colonnes manquantes : prenom, date_naissance, classe" in result.output
    result = run_idp(settings, "roster", "import", "--school", "0000000X", str(SAMPLE),
                     expect_ok=False)
    assert result.exit_code == 1 and "unknown school" in result.output
    result = run_idp(settings, "roster", "add-school", "--uai", "12", "--name", "X",
                     "--academy", "nancy-metz", expect_ok=False)
    assert "invalid UAI" in result.output
