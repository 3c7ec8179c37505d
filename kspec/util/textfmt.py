"""Plain-text tables for terminal output (no colour codes, safe to pipe)."""

from __future__ import annotations


def table(headers, rows, indent: str = "") -> str:
    """Left-aligned columns separated by two spaces; cells are str()-ed."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def resources(mapping: dict | None) -> str:
    """``cpu=250m,memory=256Mi`` from a name->quantity-string dict."""
    if not mapping:
        return "-"
    return ",".join(f"{k}={v}" for k, v in mapping.items())
