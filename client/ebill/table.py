"""Plain-text tables and key/value blocks, aligned for terminals (CJK is two columns)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    """Terminal columns of ``text``: wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``columns`` (on the left when ``right``)."""
    fill = " " * max(columns - width(text), 0)
    return fill + text if right else text + fill


def render(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """A table: header, a rule, one line per row; columns in ``right`` right-aligned."""
    columns = [width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            columns[i] = max(columns[i], width(cell))
    aligned = set(right)

    def line(cells: Sequence[str]) -> str:
        text = "  ".join(pad(c, columns[i], i in aligned) for i, c in enumerate(cells))
        return text.rstrip()

    rule = "  ".join("-" * c for c in columns)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def render_pairs(pairs: Sequence[tuple[str, str]]) -> str:
    """``key  value`` lines with the values aligned."""
    if not pairs:
        return ""
    key_width = max(width(k) for k, _ in pairs)
    return "\n".join(f"{pad(k, key_width)}  {v}".rstrip() for k, v in pairs)
