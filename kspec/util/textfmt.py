"""Plain-text tables for terminal output (no colour codes, safe to pipe)."""

from __future__ import annotations

import textwrap

# A column is never narrowed below this many characters to fit a width; the last
# column (free text) is narrowed first, down to MIN_LAST, before any other.
MIN_COLUMN = 10
MIN_LAST = 24


def table(headers, rows, indent: str = "", width: int | None = None) -> str:
    """Left-aligned columns separated by two spaces; cells are str()-ed.

    With ``width`` (the terminal's), the widest columns are narrowed until a
    line fits, and their cells wrap onto continuation lines (nothing is cut);
    a table that cannot fit even so keeps columns of :data:`MIN_COLUMN`.
    """
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = fit_widths([max(len(row[i]) for row in cells) for i in range(len(headers))],
                        None if width is None else width - len(indent))
    lines = []
    for index, row in enumerate(cells):
        wrapped = [textwrap.wrap(cell, w, break_on_hyphens=False) or [""] for cell, w in zip(row, widths)]
        for k in range(max(len(parts) for parts in wrapped)):
            line = "  ".join((parts[k] if k < len(parts) else "").ljust(w) for parts, w in zip(wrapped, widths))
            lines.append((indent + line).rstrip())
        if index == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fit_widths(widths: list[int], available: int | None) -> list[int]:
    """Column widths narrowed until they and their two-space gaps fit ``available``:
    the last column (the free text of most tables) first, down to :data:`MIN_LAST`,
    then the widest, down to :data:`MIN_COLUMN`."""
    widths = list(widths)
    if available is None:
        return widths
    while sum(widths) + 2 * (len(widths) - 1) > available:
        narrow = len(widths) - 1 if widths[-1] > MIN_LAST else max(range(len(widths)), key=lambda i: widths[i])
        if widths[narrow] <= MIN_COLUMN:
            break
        widths[narrow] -= 1
    return widths


def resources(mapping: dict | None) -> str:
    """``cpu=250m,memory=256Mi`` from a name->quantity-string dict."""
    if not mapping:
        return "-"
    return ",".join(f"{k}={v}" for k, v in mapping.items())
