"""Charter and notice texts: a small, safe subset of Markdown turned into blocks that
the templates render (escaped by Jinja; no HTML from the file ever reaches the page).

Supported: "# Title" (the document title, first line), "## Heading" / "### Heading",
paragraphs separated by a blank line, lines starting with "- " or "• " as list items,
and **bold** inside a line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass
class Block:
    kind: str                      # "h2", "h3", "p" or "ul"
    lines: list = field(default_factory=list)  # each a list of (text, bold) segments


def segments(line: str) -> list[tuple[str, bool]]:
    """A line cut into plain and bold runs."""
    out, last = [], 0
    for match in _BOLD.finditer(line):
        if match.start() > last:
            out.append((line[last:match.start()], False))
        out.append((match.group(1), True))
        last = match.end()
    if last < len(line):
        out.append((line[last:], False))
    return out


def split_title(text: str) -> tuple[str | None, str]:
    """The "# Title" first line (if any) and the rest of the text."""
    lines = text.lstrip("\ufeff").strip().splitlines()
    if lines and lines[0].startswith("# "):
        return lines[0][2:].strip(), "\n".join(lines[1:]).strip()
    return None, "\n".join(lines).strip()


def blocks(body: str) -> list[Block]:
    result: list[Block] = []
    current: Block | None = None
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            current = None
            continue
        if line.startswith("### ") or line.startswith("## "):
            level = "h3" if line.startswith("### ") else "h2"
            result.append(Block(level, [segments(line.lstrip("#").strip())]))
            current = None
        elif line.startswith(("- ", "• ", "* ")):
            if current is None or current.kind != "ul":
                current = Block("ul")
                result.append(current)
            current.lines.append(segments(line[2:].strip()))
        else:
            if current is None or current.kind != "p":
                current = Block("p")
                result.append(current)
            current.lines.append(segments(line))
    return result
