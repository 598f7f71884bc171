"""Renderings of a plan: text for people, JSON for tools. Pure functions of the plan.

Secret values never reach a view: a sensitive change shows as (sensitive) in text and
null in JSON. Colour is a separate, last step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmconf import target
from llmconf.errors import display_path
from llmconf.plan import Action, FileAction, KeyChange, Plan, WorktreePlan
from llmconf.render import Sensitive

JSON_FORMAT_VERSION = "1"
SENSITIVE = "(sensitive)"
_COLOURS = {Action.ADD: "32", Action.CHANGE: "33", Action.REMOVE: "31"}
_VERB = {
    FileAction.CREATE: "will be created",
    FileAction.UPDATE: "will be updated",
    FileAction.DELETE: "will be deleted",
}


def dumps(value: Any, **kwargs: Any) -> str:
    """JSON as readable as possible: UTF-8 text, but escaped where it could not be printed
    (a lone surrogate, which a JSON file may hold as a \\ud800 escape)."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **kwargs)
    return text


def _shown(value: Any, sensitive: bool) -> str:
    if value == "":
        return '""'  # an empty value reveals nothing, and showing it explains API_KEY=""
    if sensitive:
        return SENSITIVE
    return dumps(value)


def _change_line(change: KeyChange, width: int) -> str:
    name = target.key_name(change.key).ljust(width)
    before, after = _shown(change.before, change.sensitive), _shown(change.after, change.sensitive)
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


def plan_text(plan: Plan, base: Path | None = None, color: bool = False) -> str:
    """Terraform-style text: each changed file, its key changes, then a summary line."""
    blocks = []
    for wp in plan.changed:
        verb = _VERB[wp.file_action]
        if wp.file_action is FileAction.DELETE:
            verb += ": it did not exist before" if wp.label else ": llmconf created it and it would now be empty"
        head = f"# {wp.name}: {display_path(wp.settings, base)} ({wp.label or 'profile ' + wp.profile}) {verb}"
        width = max(len(target.key_name(c.key)) for c in wp.changes)
        lines = [_paint(_change_line(c, width), c.action, color) for c in wp.changes]
        blocks.append("\n".join([head, *lines]))
    counts = [plan.count(a) for a in Action]
    if not any(counts):
        summary = "No changes."
    else:
        files = len(plan.changed)
        summary = (
            f"Plan: {counts[0]} to add, {counts[1]} to change, {counts[2]} to remove "
            f"(in {files} file{'s' if files != 1 else ''})."
        )
    return "\n\n".join([*blocks, summary]) + "\n"


def _worktree_json(wp: WorktreePlan) -> dict[str, Any]:
    return {
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


def plan_json(plan: Plan) -> str:
    """The plan as a stable JSON document (format documented in README.md)."""
    doc = {
        "format_version": JSON_FORMAT_VERSION,
        "summary": {
            "add": plan.count(Action.ADD),
            "change": plan.count(Action.CHANGE),
            "remove": plan.count(Action.REMOVE),
            "files": len(plan.changed),
            "errors": len(plan.errors),
        },
        "worktrees": [_worktree_json(wp) for wp in plan.worktrees],
    }
    return dumps(doc, indent=2) + "\n"


# --- status ---------------------------------------------------------------------------

_STATUS_COLUMNS = ("worktree", "profile", "backend", *target.SLOTS, "default", "state")
_JSON_ONLY = ("default_slot",)


def status_rows(plan: Plan) -> list[dict[str, str]]:
    """One row a worktree: its profile, backend, model per slot, default model and sync state."""
    rows = []
    for wp in plan.worktrees:
        d = {k: SENSITIVE if isinstance(v, Sensitive) else v for k, v in wp.desired.items()}
        slot, model = target.default_model(d)
        row = {
            "worktree": wp.name,
            "profile": wp.profile,
            "backend": d.get((target.ENV, target.BASE_URL)) or "anthropic direct",
            **{slot: d.get((target.ENV, target.slot_var(slot))) or "-" for slot in target.SLOTS},
            # What a session starts on without --model: the model, and the slot it came from.
            "default": f"{model or '-'} ({slot})" if slot else str(model),
            "default_slot": slot or "-",
            "state": _state(wp),
        }
        rows.append(row)
    return rows


def _state(wp: WorktreePlan) -> str:
    if wp.error is not None:
        return "no such folder" if wp.folder_missing else "error"
    if not wp.changes:
        return "in-sync"
    return "missing" if wp.file_action is FileAction.CREATE else "drifted"


def status_text(plan: Plan) -> str:
    rows = status_rows(plan)
    header = {c: c.upper() for c in _STATUS_COLUMNS}
    widths = {c: max(len(r[c]) for r in [header, *rows]) for c in _STATUS_COLUMNS}
    lines = ["  ".join(r[c].ljust(widths[c]) for c in _STATUS_COLUMNS).rstrip() for r in [header, *rows]]
    return "\n".join(lines) + "\n"


def status_json(plan: Plan) -> str:
    return json.dumps({"format_version": JSON_FORMAT_VERSION, "worktrees": status_rows(plan)}, indent=2) + "\n"
