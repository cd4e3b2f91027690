"""No French string counts with a parenthesised plural ("essai(s)", "seconde(s)",
"identifiant(s)"): a count goes through ngettext, which picks "1 essai" or "3 essais".
Extracted from the code and templates as they are now, like test_translations."""
from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from idp.config import PROJECT_ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
PARENTHESISED_PLURAL = re.compile(r"\w\((s|x|es)\)")


def test_no_french_string_writes_a_plural_in_parentheses():
    with (PROJECT_ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = []
    for file, line, message, _comments, _context in extract_from_dir(
            str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS):
        for text in (message,) if isinstance(message, str) else message:
            if text and PARENTHESISED_PLURAL.search(text):
                found.append(f"{file}:{line}: {text}")
    assert not found, "use ngettext:\n" + "\n".join(found)
