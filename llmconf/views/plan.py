"""Renderings of a plan: text for people, JSON for tools. Pure functions of the plan.

Secret values never reach a view: a sensitive change shows as (sensitive) in text and
null in JSON. Colour is a separate, last step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmconf.targets.claude_code import settings as target
from llmconf.errors import LlmconfError, display_path
from llmconf.plan.model import Action, FileAction, KeyChange, Plan, WorktreePlan
from llmconf.render import Sensitive
from llmconf.views.json import FORMAT_VERSION as JSON_FORMAT_VERSION, dumps  # doctor, apply/jsonedit import them from here

if TYPE_CHECKING:
    from llmconf.catalog.catalog import Catalog
    from llmconf.catalog.cost import SlotChange
    from llmconf.targets.claude_code.layers import Delivery

#: What the cost of a switch is, per settings file (see llmconf.catalog.cost.plan_changes).
Costs = Mapping[Path, Sequence["SlotChange"]]

SENSITIVE = "(sensitive)"
_COLOURS = {Action.ADD: "32", Action.CHANGE: "33", Action.REMOVE: "31"}
_VERB = {
    FileAction.CREATE: "will be created",
    FileAction.UPDATE: "will be updated",
    FileAction.DELETE: "will be deleted",
}


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


def plan_text(plan: Plan, base: Path | None = None, color: bool = False, costs: Costs | None = None) -> str:
    """Terraform-style text: each changed file, its key changes (and what a model switch costs),
    then a summary line."""
    blocks = []
    for wp in plan.changed:
        verb = _VERB[wp.file_action]
        if wp.file_action is FileAction.DELETE:
            verb += ": it did not exist before" if wp.label else ": llmconf created it and it would now be empty"
        head = f"# {wp.name}: {display_path(wp.settings, base)} ({wp.label or 'profile ' + wp.profile}) {verb}"
        width = max(len(target.key_name(c.key)) for c in wp.changes)
        lines = [_paint(_change_line(c, width), c.action, color) for c in wp.changes]
        lines += [f"  # {change.text()}" for change in (costs or {}).get(wp.settings, ())]
        if wp.role == "delivery" and wp.delivery is not None:
            lines.append(_delivery_note(wp.delivery))
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
    if plan.errors:  # "No changes." alone would read as "all in sync"
        n = len(plan.errors)
        summary = f"{summary[:-1]}; {n} worktree{'s' if n != 1 else ''} could not be planned (errors below)."
    return "\n\n".join([*blocks, summary]) + "\n"


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
        doc["role"] = wp.role  # "delivery": the worktree's --settings file
    if costs and wp.settings in costs:
        doc["cost"] = [change.as_json() for change in costs[wp.settings]]
    return doc


def warning_json(warning: LlmconfError) -> dict[str, Any]:
    return {
        "file": str(warning.path) if warning.path else None,
        "line": warning.line,
        "message": warning.message,
        "hint": warning.hint,
    }


def plan_json(plan: Plan, warnings: Sequence[LlmconfError] = (), costs: Costs | None = None) -> str:
    """The plan as a stable JSON document (format documented in README.md); lint warnings and
    the cost of model switches are optional fields."""
    doc: dict[str, Any] = {
        "format_version": JSON_FORMAT_VERSION,
        "summary": {
            "add": plan.count(Action.ADD),
            "change": plan.count(Action.CHANGE),
            "remove": plan.count(Action.REMOVE),
            "files": len(plan.changed),
            "errors": len(plan.errors),
        },
        "worktrees": [_worktree_json(wp, costs) for wp in plan.worktrees],
    }
    if warnings:
        doc["warnings"] = [warning_json(w) for w in warnings]
    return dumps(doc, indent=2) + "\n"


# --- status ---------------------------------------------------------------------------

_STATUS_COLUMNS = ("worktree", "profile", "backend", *target.SLOTS, "default", "cost", "state", "effective")
_HEADERS = {"cost": "EST. COST"}


def status_rows(
    plan: Plan, catalog: Catalog | None = None, effective: Mapping[Path, Any] | None = None
) -> list[dict[str, Any]]:
    """One row a worktree: its profile, backend, model per slot, default model, the estimated
    cost of a typical session on that default model (with a catalog), sync state, and whether
    Claude Code, after merging its settings layers, gets what is declared (`effective`, by
    worktree folder: doctor.Effective)."""
    rows = []
    for wp in plan.local:
        d = {k: SENSITIVE if isinstance(v, Sensitive) else v for k, v in wp.desired.items()}
        slot, model = target.default_model(d)
        row: dict[str, Any] = {
            "worktree": wp.name,
            "profile": wp.profile,
            "backend": d.get((target.ENV, target.BASE_URL)) or "anthropic direct",
            **{slot: d.get((target.ENV, target.slot_var(slot))) or "-" for slot in target.SLOTS},
            # What a session starts on without --model: the model, and the slot it came from.
            "default": f"{model or '-'} ({slot})" if slot else str(model),
            "default_slot": slot or "-",
        }
        if catalog is not None:
            from llmconf.catalog import cost

            known = bool(d) or wp.error is None  # a worktree that failed to render has no model
            amount = cost.default_cost(d, catalog) if known else None
            row["cost"] = cost.money(amount) if known else "-"
            row["session_cost_usd"] = cost.usd(amount)
        row["state"] = _state(wp, plan.delivery_of(wp))
        if wp.delivery is not None:
            row["delivery"] = "--settings" if wp.delivery.kind == "settings" else "file"
        if wp.error is not None:
            row["error"] = wp.error.format()
            if not d:  # nothing rendered: what it would use is unknown, not "anthropic direct"
                row.update({"backend": "?", **{slot: "?" for slot in target.SLOTS}, "default": "?"})
        if effective is not None:
            if wp.error is not None and not d:
                row["effective"] = "-"
            elif wp.worktree in effective:
                row["effective"], row["effective_values"] = _effective(row, effective[wp.worktree])
            else:  # no folder: nothing for Claude Code to read
                row["effective"] = "-"
        rows.append(row)
    return rows


def _effective(row: dict[str, Any], eff: Any) -> tuple[str, dict[str, Any]]:
    """'as declared', or what differs; and the effective values (secrets hidden) with their
    sources. `eff`: (plain, delivered, ...) from doctor.effective_of; delivered is None where
    the worktree's own file is what Claude Code reads."""
    plain, delivered = eff[0], eff[1]
    plain_ok, got_plain = _got(row, plain)
    if delivered is None:
        return ("as declared" if plain_ok else "differs: llmconf doctor"), got_plain
    ok, got = _got(row, delivered)
    values = {**got, "plain_claude": got_plain}
    if not ok:
        return "differs: llmconf doctor", values
    if plain_ok:
        return "as declared", values
    return "with llmconf exec/activate only: plain claude differs (llmconf doctor)", values


def _got(row: Mapping[str, Any], eff: Any) -> tuple[bool, dict[str, Any]]:
    """Whether Claude Code gets what the row declares, and what it gets (with each value's source)."""
    got = {
        "backend": eff.base_url or "anthropic direct",
        **{slot: eff.models[slot] or "-" for slot in target.SLOTS},
        "default": f"{eff.default_model or '-'} ({eff.default_slot})" if eff.default_slot else str(eff.default_model),
    }
    same = all(row[k] in (v, SENSITIVE) for k, v in got.items())
    return same, {**got, "sources": eff.sources or {}}


def _state(wp: WorktreePlan, sent: WorktreePlan | None = None) -> str:
    """The worktree's files against the plan: its own settings file, and its --settings file."""
    if wp.error is not None or (sent is not None and sent.error is not None):
        return "no such folder" if wp.folder_missing else "error"
    if not wp.changes and (sent is None or not sent.changes):
        return "in-sync"
    if wp.file_action is FileAction.CREATE or (sent is not None and sent.file_action is FileAction.CREATE):
        return "missing"
    return "drifted"


@dataclass(frozen=True)
class ProfileOrigin:
    """Where a profile came from: its file, which search folder ("local": the config's
    profiles/, "shared": a profile_paths folder, "shipped": llmconf's own), and its parent."""

    file: Path
    source: str
    extends: str | None = None


def _table(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> list[str]:
    header = {c: _HEADERS.get(c, c.upper()) for c in columns}
    widths = {c: max(len(r[c]) for r in [header, *rows]) for c in columns}
    return ["  ".join(r[c].ljust(widths[c]) for c in columns).rstrip() for r in [header, *rows]]


def status_text(
    plan: Plan,
    catalog: Catalog | None = None,
    effective: Mapping[Path, Any] | None = None,
    origins: Mapping[str, ProfileOrigin] | None = None,
) -> str:
    rows = status_rows(plan, catalog, effective)
    columns = [
        c for c in _STATUS_COLUMNS if (c != "cost" or catalog is not None) and (c != "effective" or effective is not None)
    ]
    lines = _table(rows, columns)
    if origins:
        found = [
            # A shipped profile's folder is wherever llmconf is installed: its name says enough.
            {"profile": name, "source": o.source, "extends": o.extends or "-",
             "file": o.file.name if o.source == "shipped" else display_path(o.file)}
            for name, o in origins.items()
        ]
        lines += ["", *_table(found, ("profile", "source", "file", "extends"))]
    return "\n".join(lines) + "\n"


def status_json(
    plan: Plan,
    catalog: Catalog | None = None,
    effective: Mapping[Path, Any] | None = None,
    origins: Mapping[str, ProfileOrigin] | None = None,
) -> str:
    doc: dict[str, Any] = {"format_version": JSON_FORMAT_VERSION, "worktrees": status_rows(plan, catalog, effective)}
    if origins is not None:
        doc["profiles"] = {
            name: {"source": o.source, "file": str(o.file), "extends": o.extends} for name, o in origins.items()
        }
    return json.dumps(doc, indent=2) + "\n"
