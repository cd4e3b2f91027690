"""No inline script or style in any template: the pages' CSP forbids them (script-src and
style-src 'self'), so such code would silently not run. JavaScript lives in static/js/."""
from __future__ import annotations

import re

from idp.config import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates"
INLINE = [
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I), "event handler attribute"),
    (re.compile(r"href\s*=\s*[\"']\s*javascript:", re.I), "javascript: link"),
]


def test_templates_have_no_inline_script_or_style():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.parts[-2] == "emails":  # mail clients, not browsers under our CSP
            continue
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(PROJECT_ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)
