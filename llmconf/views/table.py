"""Aligned text tables: the one way every view lays out columns."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence


def table(
    rows: Sequence[Mapping[str, str]],
    columns: Sequence[str],
    headers: Mapping[str, str] | None = None,
    right: Collection[str] = (),
) -> list[str]:
    """A header line (a column's name upper-cased, unless `headers` names it) and a line per
    row; columns two spaces apart, each as wide as its widest cell, those in `right` aligned
    right; no trailing blanks."""
    header = {c: (headers or {}).get(c, c.upper()) for c in columns}
    widths = {c: max(len(r[c]) for r in [header, *rows]) for c in columns}

    def cell(row: Mapping[str, str], c: str) -> str:
        return row[c].rjust(widths[c]) if c in right else row[c].ljust(widths[c])

    return ["  ".join(cell(r, c) for c in columns).rstrip() for r in [header, *rows]]
