"""doctor's report, for people and for tools: each worktree's effective backend and findings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from llmconf.errors import LlmconfError, display_path
from llmconf.targets.claude_code import settings as target
from llmconf.views.json import diagnostic, document

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.plan.model import WorktreePlan
    from llmconf.targets.claude_code.client import Client
    from llmconf.targets.claude_code.effective import Effective
    from llmconf.targets.claude_code.live import Estimate, KeyInfo, Outcome, Slot
    from llmconf.targets.claude_code.live import Report as Live

Report = Sequence[tuple["WorktreePlan", "Effective", list[LlmconfError]]]
#: The other agents' project files (`agents:`), each with its key file's plan and its findings.
AgentReport = Sequence[tuple["WorktreePlan", "WorktreePlan | None", list[LlmconfError]]]


def counts(report: Report, others: AgentReport = ()) -> tuple[int, int]:
    """(errors, warnings) over every worktree and agent."""
    found = [f for _, _, findings in report for f in findings] + [f for _, _, findings in others for f in findings]
    return sum(f.severity == "error" for f in found), sum(f.severity == "warning" for f in found)


def doctor_text(report: Report, claude: Client, cwd: Path, live: Live | None = None, others: AgentReport = ()) -> str:
    out = [_worktree_text(wp, effective, findings, cwd) + _live_text(wp, live) for wp, effective, findings in report]
    out += [_agent_text(wp, key, findings, cwd) for wp, key, findings in others]
    if claude.assumed:
        out.append(f"Claude Code: {claude.why}; assuming {claude.version}'s rules (the newest llmconf knows).\n")
    else:
        out.append(f"Claude Code {claude.version}: {display_path(claude.path, cwd) if claude.path else '?'}\n")
    errors, warnings = counts(report, others)
    summary = f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
    if live is not None:
        summary += f"; live checks: {live.count('ok')} ok, {live.count('failed')} failed, {live.count('skipped')} skipped"
    out.append(summary + ".\n")
    return "".join(out)


def doctor_json(report: Report, claude: Client, live: Live | None = None, others: AgentReport = ()) -> str:
    errors, warnings = counts(report, others)
    doc: dict[str, Any] = {
        "claude_code": {"path": str(claude.path) if claude.path else None, "version": claude.version, "assumed": claude.assumed},
        "worktrees": [_worktree_json(wp, eff, findings, live) for wp, eff, findings in report],
        "agents": [_agent_json(wp, key, findings) for wp, key, findings in others],
        "errors": errors,
        "warnings": warnings,
    }
    if live is not None:
        from llmconf.targets.claude_code.live import INPUT_TOKENS

        est = live.estimate
        doc["live"] = {
            "requests": est.requests,
            "slots": est.slots,
            "input_tokens_each": INPUT_TOKENS,
            "estimated_cost_usd": float(est.cost) if est.cost is not None else None,
            "unpriced_requests": est.unpriced,
            "timeout_seconds": live.timeout,
            **{status: live.count(status) for status in ("ok", "failed", "skipped")},
        }
    return document(doc)


def live_notice(est: Estimate, timeout: float) -> str:
    """What --online is about to send, and its cost at the catalog's prices: said before it sends."""
    from decimal import Decimal

    from llmconf.catalog.cost import money
    from llmconf.targets.claude_code.live import INPUT_TOKENS

    slots = f"{est.slots} slot{'s' if est.slots != 1 else ''}"
    head = (
        f"Live checks: one tiny request per slot (max_tokens 1, one tool definition, about {INPUT_TOKENS} tokens in): "
        f"{est.requests} request{'s' if est.requests != 1 else ''} for {slots}, each allowed {timeout:g} s"
    )
    if not est.requests:
        return head + ".\n"
    cost = "nothing it can price" if est.cost is None else f"about {money(est.cost) if est.cost >= Decimal('0.0001') else 'under $0.0001'}"
    unpriced = f" ({est.unpriced} model{'s' if est.unpriced != 1 else ''} it cannot price)" if est.unpriced and est.cost is not None else ""
    return f"{head}; cost at the catalog's prices: {cost}{unpriced}.\n"


def _live_text(wp: WorktreePlan, live: Live | None) -> str:
    if live is None or wp.worktree not in live.slots:
        return ""
    lines = []
    key = live.keys.get(wp.worktree)
    checked = live.slots[wp.worktree]
    if key is not None:
        named = next((c.name for s, _ in checked for c in s.credentials), "the key")
        lines.append(f"  live    key     {named}: {_key_text(key)}")
    for slot, outcome in checked:
        lines.append(f"  live    {slot.slot:<7} {_outcome_text(slot, outcome)}")
    return "\n".join(lines) + "\n"


def _key_text(key: KeyInfo) -> str:
    from decimal import Decimal

    from llmconf.catalog.cost import money

    parts = [f'label "{key.label}"'] if key.label else []
    parts.append("no limit" if key.limit is None else f"limit {money(Decimal(repr(key.limit)))}")
    if key.remaining is not None:
        parts.append(f"{money(Decimal(repr(key.remaining)))} left")
    elif key.usage is not None:
        parts.append(f"{money(Decimal(repr(key.usage)))} used")
    return ", ".join(parts)


def _outcome_text(slot: Slot, outcome: Outcome) -> str:
    status = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}[outcome.status]
    model = f"{slot.shown_model}: " if slot.shown_model and outcome.status != "skipped" else ""
    said = outcome.message
    if outcome.first_byte_ms is not None:
        said += f", first byte {outcome.first_byte_ms} ms"
    hint = f" ({outcome.hint})" if outcome.hint else ""
    return f"{status:<7} {model}{said}{hint}"


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
    lines += [_finding_line(f, cwd) for f in findings]
    return "\n".join(lines) + "\n"


def _finding_line(f: LlmconfError, cwd: Path) -> str:
    where = f"{display_path(f.path, cwd)}: " if f.path else ""
    hint = f" ({f.hint})" if f.hint else ""
    return f"  {f.severity}: {where}{f.message}{hint}"


def _agent_text(wp: WorktreePlan, key: WorktreePlan | None, findings: list[LlmconfError], cwd: Path) -> str:
    from llmconf.targets.agents import shown
    from llmconf.targets.base import agent_target

    backend, main, small = shown(wp, key)
    lines = [f"# {wp.name}: {wp.agent} (profile {wp.profile}): {backend or '-'}", f"  main    {main or '-'}"]
    if small:
        lines.append(f"  small   {small}")
    lines.append(f"  via     {display_path(wp.settings, cwd)}; the key through llmconf exec / activate ({agent_target(wp.agent).command})")
    lines += [_finding_line(f, cwd) for f in findings]
    return "\n".join(lines) + "\n"


def _agent_json(wp: WorktreePlan, key: WorktreePlan | None, findings: list[LlmconfError]) -> dict[str, Any]:
    from llmconf.targets.agents import shown

    backend, main, small = shown(wp, key)
    return {
        "name": wp.name,
        "agent": wp.agent,
        "profile": wp.profile,
        "file": str(wp.settings),
        "declared": {"base_url": backend, "main_model": main, "small_model": small},
        "findings": [{**diagnostic(f), "level": f.severity, "path": str(f.path) if f.path else None} for f in findings],
    }


def _worktree_json(wp: WorktreePlan, effective: Effective, findings: list[LlmconfError], live: Live | None = None) -> dict[str, Any]:
    doc = {
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
    if live is not None:
        doc["live"] = _live_json(wp, live)
    return doc


def _live_json(wp: WorktreePlan, live: Live) -> dict[str, Any]:
    """A worktree's live checks: credentials by name only, never a value."""
    checked = live.slots.get(wp.worktree, [])
    key = live.keys.get(wp.worktree)
    return {
        "key": None if key is None else {"label": key.label, "limit_usd": key.limit, "remaining_usd": key.remaining, "usage_usd": key.usage},
        "slots": [
            {
                "slot": slot.slot,
                "model": slot.shown_model,
                "base_url": slot.shown_url,
                "credentials": [{"header": c.header, "variable": c.variable, "name": c.name, "secret": c.secret} for c in slot.credentials],
                "status": outcome.status,
                "message": outcome.message,
                "hint": outcome.hint,
                "first_byte_ms": outcome.first_byte_ms,
            }
            for slot, outcome in checked
        ],
    }
