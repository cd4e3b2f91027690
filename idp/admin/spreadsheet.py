"""Cells and lines for the console's CSV exports (the audit trail, a school's lists).

A spreadsheet runs a cell starting with = + - @ (or a tab, a carriage return) as a
formula: a family's name or an audit detail could then run in a secretary's Excel (CSV
injection). Such a cell is written as plain text, behind an apostrophe.
"""
from __future__ import annotations

import csv
import io

BOM = "\ufeff"  # first in a file: Excel then opens UTF-8 correctly
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def csv_line(values, delimiter: str = ",") -> str:
    """One CSV line, CRLF-terminated (cells already made plain where they need it)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(values)
    return out.getvalue()
