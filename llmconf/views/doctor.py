"""doctor's report, for people and for tools: each worktree's effective backend and findings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmconf.errors import LlmconfError, display_path
from llmconf.targets.claude_code import settings as target
from llmconf.views.json import diagnostic, document

if TYPE_CHECKING:
    from llmconf.plan.model import WorktreePlan
    from llmconf.targets.claude_code.client import Client
    from llmconf.targets.claude_code.effective import Effective

Report = Sequence[tuple["WorktreePlan", "Effective", list[LlmconfError]]]


def counts(report: Report) -> tuple[int, int]:
    """(errors, warnings) over every worktree."""
    found = [f for _, _, findings in report for f in findings]
    return sum(f.severity == "error" for f in found), sum(f.severity == "warning" for f in found)


def doctor_text(report: Report, claude: Client, cwd: Path) -> str:
    out = [_worktree_text(wp, effective, findings, cwd) for wp, effective, findings in report]
    if claude.assumed:
        out.append(f"Claude Code: {claude.why}; assuming {claude.version}'s rules (the newest llmconf knows).\n")
    else:
        out.append(f"Claude Code {claude.version}: {display_path(claude.path, cwd) if claude.path else '?'}\n")
    errors, warnings = counts(report)
    out.append(f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}.\n")
    return "".join(out)


def doctor_json(report: Report, claude: Client) -> str:
    errors, warnings = counts(report)
    doc = {
        "claude_code": {"path": str(claude.path) if claude.path else None, "version": claude.version, "assumed": claude.assumed},
        "worktrees": [_worktree_json(wp, eff, findings) for wp, eff, findings in report],
        "errors": errors,
        "warnings": warnings,
    }
    return document(doc)


def _worktree_text(wp: WorktreePlan, effective: Effective, findings: list[LlmconfError], cwd: Path) -> str:
    backend = effective.base_url or "anthropic direct"
    lines = [f"# {wp.name} (profile {wp.profile}): {backend}"]
    for slot in target.SLOTS:
        if slot in target.IMPLICIT_SLOTS or effective.models[slot]:  # fable: where it is mapped
            label = (effective.labels or {}).get(slot)
            lines.append(f"  {slot:<7} {effective.models[slot] or '-'}" + (f"  ({label} in /model)" if label else ""))
    default = f"{effective.default_model or '-'} ({effective.default_slot})" if effective.default_slot else str(effective.default_model)
    lines.append(f"  default {default}")
    if effective.subagent:
        lines.append(f"  subagent {effective.subagent}")
    if wp.delivery is not None and wp.delivery.kind == "settings":
        lines.append(f"  via     llmconf exec / activate: claude --settings (because {wp.delivery.why})")
    for f in findings:
        where = f"{display_path(f.path, cwd)}: " if f.path else ""
        hint = f" ({f.hint})" if f.hint else ""
        lines.append(f"  {f.severity}: {where}{f.message}{hint}")
    return "\n".join(lines) + "\n"


def _worktree_json(wp: WorktreePlan, effective: Effective, findings: list[LlmconfError]) -> dict[str, Any]:
    return {
        "name": wp.name,
        "profile": wp.profile,
        "effective": {
            "base_url": effective.base_url,
            "models": effective.models,
            "default_slot": effective.default_slot,
            "default_model": effective.default_model,
            "labels": effective.labels or {},
            "subagent": effective.subagent,
            "sources": effective.sources or {},
        },
        "delivery": None if wp.delivery is None else {"kind": wp.delivery.kind, "why": wp.delivery.why},
        # `level` and `path` are what format_version 1 first called `severity` and `file`: kept
        # for tools that read them, until a format_version 2.
        "findings": [{**diagnostic(f), "level": f.severity, "path": str(f.path) if f.path else None} for f in findings],
    }
