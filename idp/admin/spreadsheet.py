"""Cells for the console's CSV exports (the audit trail, a school's lists).

A spreadsheet runs a cell starting with = + - @ (or a tab, a carriage return) as a
formula: a family's name or an audit detail could then run in a secretary's Excel (CSV
injection). Such a cell is written as plain text, behind an apostrophe.
"""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text
