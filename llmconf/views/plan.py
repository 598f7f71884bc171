"""Renderings of a plan: text for people, JSON for tools. Pure functions of the plan.

Secret values never reach a view: a sensitive change shows as (sensitive) in text and
null in JSON. Colour is a separate, last step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from llmconf.errors import LlmconfError, display_path
from llmconf.jsontext import dumps
from llmconf.plan.model import Action, Delivery, FileAction, KeyChange, Plan, WorktreePlan
from llmconf.secrets.mask import shown
from llmconf.targets.claude_code import settings as target
from llmconf.views.json import FORMAT_VERSION, diagnostic

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.catalog.cost import SlotChange

#: What the cost of a switch is, per settings file (see llmconf.catalog.cost.plan_changes).
Costs = Mapping[Path, Sequence["SlotChange"]]

_COLOURS = {Action.ADD: "32", Action.CHANGE: "33", Action.REMOVE: "31"}
_VERB = {
    FileAction.CREATE: "will be created",
    FileAction.UPDATE: "will be updated",
    FileAction.DELETE: "will be deleted",
}


def _change_line(change: KeyChange, width: int) -> str:
    name = target.key_name(change.key).ljust(width)
    before, after = shown(change.before, change.sensitive), shown(change.after, change.sensitive)
    if change.action is Action.ADD:
        value = after
    elif change.action is Action.REMOVE:
        value = before
    else:
        value = f"{before} -> {after}"
    drift = "   # changed outside llmconf" if change.drift else ""
    return f"  {change.action.value} {name} = {value}{drift}"


def _paint(line: str, action: Action, color: bool) -> str:
    return f"\x1b[{_COLOURS[action]}m{line}\x1b[0m" if color else line


def plan_text(plan: Plan, base: Path | None = None, color: bool = False, costs: Costs | None = None) -> str:
    """Terraform-style text: each changed file, its key changes (and what a model switch costs),
    then a summary line."""
    blocks = []
    for wp in plan.changed:
        verb = _VERB[wp.file_action]
        if wp.file_action is FileAction.DELETE:
            verb += ": it did not exist before" if wp.label else ": llmconf created it and it would now be empty"
        head = f"# {wp.name}: {display_path(wp.settings, base)} ({wp.label or 'profile ' + wp.profile}) {verb}"
        width = max((len(target.key_name(c.key)) for c in wp.changes), default=0)
        lines = [_paint(_change_line(c, width), c.action, color) for c in wp.changes]
        if wp.loose_mode is not None:
            lines.append(_paint(f"  ~ file mode {wp.loose_mode:04o} -> 0600 (it holds a key)", Action.CHANGE, color))
        lines += [f"  # {change.text()}" for change in (costs or {}).get(wp.settings, ())]
        if wp.only_copy:  # loud: after apply this key is gone for good
            keys = ", ".join(wp.only_copy)
            lines.append(
                _paint(f"  ! {keys}: this file holds the only copy of that key; save it first with "
                       f"'llmconf secret set NAME' (the value on stdin), or it is lost", Action.REMOVE, color)
            )
        if wp.role == "delivery" and wp.delivery is not None:
            lines.append(_delivery_note(wp.delivery))
        elif wp.role == "agent-key" and wp.file_action is not FileAction.DELETE:
            lines.append(f"  # {wp.agent}'s key, outside the repository: 'llmconf exec' and 'llmconf activate' hand it over")
        blocks.append("\n".join([head, *lines]))
    counts = [plan.count(a) for a in Action]
    if not plan.changed:
        summary = "No changes."
    else:
        files = len(plan.changed)
        loose = sum(1 for w in plan.changed if w.loose_mode is not None)
        modes = f", {loose} file mode{'s' if loose != 1 else ''} to 0600" if loose else ""
        summary = (
            f"Plan: {counts[0]} to add, {counts[1]} to change, {counts[2]} to remove{modes} "
            f"(in {files} file{'s' if files != 1 else ''})."
        )
    lost = sum(len(w.only_copy) for w in plan.changed)
    if lost:
        summary = f"{summary[:-1]}; {lost} key{'s' if lost != 1 else ''} lost for good (see '!' above)."
    if plan.errors:  # "No changes." alone would read as "all in sync"
        n = len(plan.errors)
        summary = f"{summary[:-1]}; {n} worktree{'s' if n != 1 else ''} could not be planned (errors below)."
    notes = "".join(f"\nNote: {note}." for note in plan.notes)
    return "\n\n".join([*blocks, summary]) + notes + "\n"


def _delivery_note(how: Delivery) -> str:
    if how.kind == "settings":
        return f"  # claude gets it as --settings through 'llmconf exec' or 'llmconf activate': {how.why}"
    return f"  # no longer needed: {how.why}"


def _worktree_json(wp: WorktreePlan, costs: Costs | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": wp.name,
        "worktree": str(wp.worktree),
        "settings_file": str(wp.settings),
        "profile": wp.profile,
        "action": "error" if wp.error else wp.file_action.value,
        "error": wp.error.format() if wp.error else None,
        "changes": [
            {
                "key": target.key_name(c.key),
                "action": c.action.name.lower(),
                "before": None if c.sensitive and c.before != "" else c.before,
                "after": None if c.sensitive and c.after != "" else c.after,
                "sensitive": c.sensitive,
                "drift": c.drift,
            }
            for c in wp.changes
        ],
    }
    # Optional fields, present only when there is something to say: the format stays version 1.
    if wp.delivery is not None:
        doc["delivery"] = {"kind": wp.delivery.kind, "why": wp.delivery.why}
    if wp.role != "local":
        doc["role"] = wp.role  # "delivery": the worktree's --settings file; "agent", "agent-key": another agent's
    if wp.agent != "claude-code":
        doc["agent"] = wp.agent
    if wp.loose_mode is not None:
        doc["mode"] = {"before": f"{wp.loose_mode:04o}", "after": "0600"}
    if wp.only_copy:
        doc["only_copy"] = list(wp.only_copy)  # keys whose only copy this plan removes
    if costs and wp.settings in costs:
        doc["cost"] = [change.as_json() for change in costs[wp.settings]]
    return doc


def plan_json(plan: Plan, warnings: Sequence[LlmconfError] = (), costs: Costs | None = None) -> str:
    """The plan as a stable JSON document (format documented in README.md); lint warnings and
    the cost of model switches are optional fields."""
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "summary": {
            "add": plan.count(Action.ADD),
            "change": plan.count(Action.CHANGE),
            "remove": plan.count(Action.REMOVE),
            "files": len(plan.changed),
            "errors": len(plan.errors),
        },
        "worktrees": [_worktree_json(wp, costs) for wp in plan.worktrees],
    }
    if plan.notes:
        doc["notes"] = list(plan.notes)
    if warnings:
        doc["warnings"] = [diagnostic(w) for w in warnings]
    return dumps(doc, indent=2) + "\n"
