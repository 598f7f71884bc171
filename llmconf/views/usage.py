"""`llmconf usage`: what each worktree spent, as a table or JSON. Pure functions of values."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from llmconf.catalog import cost
from llmconf.catalog.usage import Line, Priced, Report
from llmconf.views.json import document
from llmconf.views.table import table

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.targets.claude_code.transcripts import Scan

_TOKEN_COLUMNS = {"input": "INPUT", "output": "OUTPUT", "cache_write": "CACHE WRITE", "cache_read": "CACHE READ"}


def _money(p: Priced) -> str:
    """$1.23; $1.23+? when some tokens have no price; ? when none has one."""
    if p.cost is None:
        return "?"
    return cost.money(p.cost) + ("+?" if p.unpriced else "")


def _cells(line: Line, report: Report, key: str) -> dict[str, str]:
    t = line.priced.tokens
    cells = {
        report.by: key,
        "sessions": str(line.sessions),
        "input": f"{t.input:,}",
        "output": f"{t.output:,}",
        "cache_write": f"{t.cache_write_5m + t.cache_write_1h:,}",
        "cache_read": f"{t.cache_read:,}",
        "cost": _money(line.priced),
        **{f"if:{name}": _money(p) for name, p in line.what_if.items()},
    }
    if report.by == "session":
        cells["worktree"] = ", ".join(line.worktrees)
        cells["last_day"] = line.days[1]
        cells["models"] = ", ".join(line.models)
    return cells


def usage_text(report: Report, scanned: Scan, roots: Sequence[Path]) -> str:
    """A row per group, a total, then what could not be priced, misrouting and skipped lines."""
    what_ifs = list(report.total.what_if)
    extra = ("worktree", "last_day", "models") if report.by == "session" else ()
    counted = () if report.by == "session" else ("sessions",)
    columns = (report.by, *extra, *counted, *_TOKEN_COLUMNS, "cost", *(f"if:{n}" for n in what_ifs))
    headers = {**_TOKEN_COLUMNS, "last_day": "LAST DAY", "cost": "COST", **{f"if:{n}": f"IF {n}".upper() for n in what_ifs}}
    if not report.lines:
        lines = [f"No Claude Code usage found in {', '.join(map(str, roots))} for the worktrees and days asked."]
    else:
        rows = [_cells(line, report, line.key) for line in report.lines]
        total = _cells(report.total, report, "total")
        for c in extra:
            total[c] = ""
        right = {"sessions", *_TOKEN_COLUMNS, "cost", *(f"if:{n}" for n in what_ifs)}
        lines = table([*rows, total], columns, headers, right)
    notes = []
    if report.total.priced.unpriced:
        notes.append(f"no price in the catalog for {', '.join(report.total.priced.unpriced)}: their tokens are left out of COST "
                     "(add them to catalog.yaml; see 'llmconf models')")
    for name, p in report.total.what_if.items():
        if p.unpriced:
            notes.append(f"IF {name.upper()} leaves out {', '.join(p.unpriced)} (no slot of the worktree's profile maps it, or no price)")
    for m in report.misrouted:
        plural = "s" if m.sessions != 1 else ""
        notes.append(f"{m.worktree} ran {m.sessions} session{plural} on {', '.join(m.models)}, which its profile does not map")
    s = scanned.skipped
    skipped = [f"{n} {what} line{'s' if n != 1 else ''}" for n, what in
               ((s.garbled, "garbled"), (s.truncated, "truncated"), (s.unreadable, "unreadable"))
               if n]
    if skipped:
        notes.append(f"skipped {', '.join(skipped)} in the transcripts")
    if s.unknown:
        notes.append(f"{s.unknown} message{'s' if s.unknown != 1 else ''} carried a token count llmconf does not know (left out)")
    return "\n".join(lines + ([""] if notes else []) + notes) + "\n"


def _priced_json(p: Priced) -> dict[str, Any]:
    return {"cost_usd": cost.usd(p.cost), "complete": not p.unpriced, "unpriced": list(p.unpriced)}


def _line_json(line: Line, by: str) -> dict[str, Any]:
    t = line.priced.tokens
    return {
        by: line.key,
        "sessions": line.sessions,
        "messages": line.messages,
        "tokens": {
            "input": t.input, "output": t.output, "cache_write_5m": t.cache_write_5m, "cache_write_1h": t.cache_write_1h,
            "cache_read": t.cache_read, "total": t.total,
        },
        **_priced_json(line.priced),
        "what_if": {name: _priced_json(p) for name, p in line.what_if.items()},
        "worktrees": list(line.worktrees),
        "models": list(line.models),
        "first_day": line.days[0] or None,
        "last_day": line.days[1] or None,
    }


def usage_json(report: Report, scanned: Scan, roots: Sequence[Path]) -> str:
    """The report as a JSON document."""
    total = _line_json(report.total, report.by)
    del total[report.by]
    return document(
        {
            "by": report.by,
            "rows": [_line_json(line, report.by) for line in report.lines],
            "total": total,
            "misrouted": [{"worktree": m.worktree, "models": list(m.models), "sessions": m.sessions} for m in report.misrouted],
            "skipped": scanned.skipped._asdict(),
            "transcripts": {"folders": [str(r) for r in roots], "files": scanned.files},
        }
    )
