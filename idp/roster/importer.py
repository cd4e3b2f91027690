"""`import_roster`: a school's CSV in, school records and provisional accounts out.

Every row is checked before anything is written: a rejected row is reported with its line
and reason and never touches the database, so one bad row never spoils the good ones, and
a file-level problem (encoding, missing column) writes nothing at all. Re-importing the
same file changes nothing; a changed row updates its records (pupils are found by their
national id, representatives by their link to the pupil or by names + first contact).
The plan is made in planning.py and written with bulk statements (apply.py): a school of
1,000 pupils is a few queries.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import record
from ..db import db
from ..models import RosterImport, School, utcnow
from . import apply, planning
from .csvfile import RosterFileError, parse
from .rows import PupilRow, RowError, check_row


class UnknownSchool(LookupError):
    pass


@dataclass
class ImportReport:
    school: str
    dry_run: bool
    file_name: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    encoding_repaired: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    accounts_created: int = 0
    representatives_created: int = 0
    absent: int = 0                 # pupils of the school missing from this file (kept)
    errors: list[dict] = field(default_factory=list)   # {line, column, reason}
    file_error: str | None = None
    import_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.file_error is None

    def as_dict(self) -> dict:
        return asdict(self)


def find_school(uai: str) -> School:
    school = db.session.scalar(select(School).where(School.uai == uai.strip().upper()))
    if school is None:
        raise UnknownSchool(uai)
    return school


def check_rows(rows: list[tuple[int, dict]], report: ImportReport) -> list[PupilRow]:
    """Valid rows, in file order; the others go to the report (duplicates name the first
    line that had the same national id)."""
    valid, seen = [], {}
    for line, raw in rows:
        try:
            row = check_row(line, raw)
        except RowError as exc:
            report.errors.append({"line": line, "column": exc.column, "reason": exc.reason})
            continue
        if row.national_id in seen:
            report.errors.append({"line": line, "column": "ine", "reason": _(
                "INE %(ine)s déjà présent ligne %(first)d : ligne ignorée.",
                ine=row.national_id, first=seen[row.national_id])})
            continue
        seen[row.national_id] = line
        valid.append(row)
    report.errors.sort(key=lambda e: e["line"])
    report.rejected = len(report.errors)
    return valid


def import_roster(school_uai: str, data: bytes, *, dry_run: bool = False,
                  actor: str | None = None, file_name: str | None = None,
                  now: datetime | None = None) -> ImportReport:
    """Import one school's CSV (flushes, never commits). Raises UnknownSchool; a file
    that cannot be read gives a report with `file_error` and writes nothing."""
    school = find_school(school_uai)
    report = ImportReport(school=school.uai, dry_run=dry_run, file_name=file_name)
    try:
        roster = parse(data)
    except RosterFileError as exc:
        report.file_error = str(exc)
        return report
    report.encoding, report.delimiter = roster.encoding, roster.delimiter
    report.encoding_repaired = roster.repaired
    report.rows = len(roster.rows)
    rows = check_rows(roster.rows, report)
    plan = planning.plan_import(school, rows)
    report.created, report.updated, report.unchanged = plan.counts()
    report.absent = plan.absent
    if dry_run:
        report.accounts_created = plan.accounts_to_create()
        report.representatives_created = plan.new_representative_count()
        return report
    when = now or utcnow()
    report.accounts_created = apply.apply_plan(plan, when)
    report.representatives_created = plan.new_representative_count()
    summary = {k: getattr(report, k) for k in ("rows", "created", "updated", "unchanged",
                                               "rejected", "accounts_created")}
    row = RosterImport(school_id=school.id, file_name=file_name, actor=actor,
                       created_at=when, report=report.as_dict())
    db.session.add(row)
    db.session.flush()
    report.import_id = row.id
    row.report = report.as_dict()
    record("roster_import", actor=actor, target=school.uai, **summary)
    return report
