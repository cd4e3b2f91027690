"""idp/admin/spreadsheet.py: a cell a spreadsheet would run as a formula is plain text."""
from __future__ import annotations

import pytest

from idp.admin.spreadsheet import plain_cell


@pytest.mark.parametrize("value, written", [
    ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
    ("+33612345678", "'+33612345678"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Martin", "Martin"), ("", ""), (None, ""), (42, "42")])
def test_formulas_are_written_as_text(value, written):
    assert plain_cell(value) == written
