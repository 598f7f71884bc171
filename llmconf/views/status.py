"""The status table: one row per worktree, what it is declared to use, whether it is in sync,
and what Claude Code really gets; text for people, JSON for tools."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from llmconf.plan.model import FileAction, Plan, WorktreePlan
from llmconf.render import is_sensitive
from llmconf.secrets.mask import SENSITIVE, scrub_value
from llmconf.targets.claude_code import settings as target
from llmconf.views.json import document
from llmconf.views.table import table

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.catalog.catalog import Catalog
    from llmconf.config.profiles import ProfileOrigin


_STATUS_COLUMNS = ("worktree", "profile", "backend", *target.SLOTS, "default", "subagent", "cost", "state", "effective")
_HEADERS = {"cost": "EST. COST"}
#: Columns shown only where some worktree has a value: fable, and a forced subagent model.
_WHEN_SET = frozenset(target.SLOTS) - frozenset(target.IMPLICIT_SLOTS) | {"subagent"}


def status_rows(
    plan: Plan, catalog: Catalog | None = None, effective: Mapping[Path, Any] | None = None,
    agents: Mapping[Path, str | None] | None = None,
) -> list[dict[str, Any]]:
    """One row a worktree: its profile, backend, model per slot, default model, the estimated
    cost of a typical session on that default model (with a catalog), sync state, and whether
    Claude Code, after merging its settings layers, gets what is declared (`effective`, by
    worktree folder: doctor.Effective)."""
    rows = []
    for wp in plan.local:
        # A literal value with a key in it (a URL with the key in its path) is shown scrubbed.
        d = {k: SENSITIVE if is_sensitive(v) else scrub_value(v) for k, v in wp.desired.items()}
        slot, model = target.default_model(d)
        row: dict[str, Any] = {
            "worktree": wp.name,
            "profile": wp.profile,
            "backend": d.get((target.ENV, target.BASE_URL)) or "anthropic direct",
            **{slot: d.get((target.ENV, target.slot_var(slot))) or "-" for slot in target.SLOTS},
            # What a session starts on without --model: the model, and the slot it came from.
            "default": f"{model or '-'} ({slot})" if slot else str(model),
            "default_slot": slot or "-",
            "subagent": d.get((target.ENV, target.SUBAGENT)) or "-",
            # What /model calls each mapped slot (JSON only: the table has no room for it).
            "labels": {
                s: label
                for s in target.SLOTS
                if d.get((target.ENV, target.slot_var(s))) and (label := d.get((target.ENV, target.slot_info_var(s, "labels"))))
            },
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
                row.update({"backend": "?", **{slot: "?" for slot in target.SLOTS}, "default": "?", "subagent": "?"})
        if effective is not None:
            if wp.error is not None and not d:
                row["effective"] = "-"
            elif wp.worktree in effective:
                row["effective"], row["effective_values"] = _effective(row, effective[wp.worktree])
            else:  # no folder: nothing for Claude Code to read
                row["effective"] = "-"
        rows.append(row)
    if any(wp.role == "agent" for wp in plan.worktrees):  # agents: beyond Claude Code
        rows = _with_agents(plan, rows, catalog is not None, agents if effective is not None else None)
    return rows


def _with_agents(
    plan: Plan, rows: list[dict[str, Any]], costs: bool, effective: Mapping[Path, str | None] | None
) -> list[dict[str, Any]]:
    """Claude Code's rows with an agent column, and a row for each other agent of each worktree:
    what its file declares (main model as sonnet, small model as haiku), its state, and
    (`effective`, by file: what beats it, or None) whether the agent uses it."""
    keys = {(wp.worktree, wp.agent): wp for wp in plan.worktrees if wp.role == "agent-key"}
    out = [{"agent": "claude-code", **row} for row in rows]
    for wp in plan.worktrees:
        if wp.role != "agent":
            continue
        from llmconf.targets.agents import shown

        key_file = keys.get((wp.worktree, wp.agent))
        backend, main, small = shown(wp, key_file)
        unknown = wp.error is not None and not wp.desired
        row: dict[str, Any] = {
            "agent": wp.agent,
            "worktree": wp.name,
            "profile": wp.profile,
            "backend": "?" if unknown else backend or "-",
            **{slot: "-" for slot in target.SLOTS},
            "sonnet": "?" if unknown else main or "-",
            "haiku": "?" if unknown else small or "-",
            "default": "?" if unknown else f"{main or '-'} (main)",
            "default_slot": "sonnet",
            "subagent": "-",
            "labels": {},
            "file": str(wp.settings),
        }
        if costs:
            row.update(cost="-", session_cost_usd=None)
        row["state"] = _state(wp, keys.get((wp.worktree, wp.agent)))
        if wp.error is not None:
            row["error"] = wp.error.format()
        if effective is not None:
            beaten = effective.get(wp.settings, "")
            if wp.error is not None or wp.folder_missing or beaten == "":  # the agent cannot use this file as planned
                row["effective"] = "-"
            elif wp.changes or (key_file is not None and key_file.changes):  # the agent reads what is on disk, not the plan
                row["effective"] = "differs: not applied yet"
            else:
                row["effective"] = "as declared" if beaten is None else f"differs: {beaten}"
        out.append(row)
    return out


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
        "subagent": eff.subagent or "-",
    }
    same = all(row[k] in (v, SENSITIVE) for k, v in got.items())
    return same, {**got, "sources": eff.sources or {}}


def _state(wp: WorktreePlan, sent: WorktreePlan | None = None) -> str:
    """The worktree's files against the plan: its own settings file, and its --settings file."""
    if wp.error is not None or (sent is not None and sent.error is not None):
        return "no such folder" if wp.folder_missing else "error"
    if not wp.changes and wp.loose_mode is None and (sent is None or not sent.changes):
        return "in-sync"
    if wp.file_action is FileAction.CREATE or (sent is not None and sent.file_action is FileAction.CREATE):
        return "missing"
    return "drifted"


def status_text(
    rows: list[dict[str, Any]], origins: Mapping[str, ProfileOrigin] | None = None, width: int | None = None,
    cwd: Path | None = None,
) -> str:
    """status_rows as a table fitted to `width` columns (None: every column in full), then
    where each profile comes from (its file as a path from `cwd`)."""
    columns = [  # fable and subagent: only where some worktree has one
        c for c in _STATUS_COLUMNS if c not in _WHEN_SET or any(row[c] not in ("-", "?") for row in rows)
    ]
    if rows and "agent" in rows[0]:  # some worktree configures another agent than Claude Code
        columns.insert(1, "agent")
    lines = table(rows, columns, _HEADERS)
    if width is not None and max(map(len, lines)) > width:
        lines = _fitted(rows, columns, width)
    if origins:
        found = [
            # A shipped profile's folder is wherever llmconf is installed: its name says enough.
            {"profile": name, "source": o.source, "extends": o.extends or "-",
             "file": o.file.name if o.source == "shipped" else _path_from(o.file, cwd or Path.cwd())}
            for name, o in origins.items()
        ]
        lines += ["", *table(found, ("profile", "source", "file", "extends"))]
    return "\n".join(lines) + "\n"


def _path_from(path: Path, cwd: Path) -> str:
    """`path` as the shorter of its path from `cwd` and its absolute path."""
    relative = os.path.relpath(path, cwd)
    return relative if len(relative) < len(str(path)) else str(path)


#: The columns given up first when the table is wider than the terminal: the detail of each
#: slot before the default model a session starts on, the state and the effective check.
_DROP_ORDER = ("subagent", "fable", "haiku", "opus", "sonnet", "cost")
#: Columns whose cells are cut short (with "…") when dropping was not enough, in this order.
_CUT = ("default", "profile", "worktree")
_SHORT_EFFECTIVE = {"differs: llmconf doctor": "differs"}


def _fitted(rows: list[dict[str, Any]], columns: list[str], width: int) -> list[str]:
    """The table in `width` columns: shorter cells (a gateway's host, model IDs without their
    vendor, one-word effective states), then fewer columns, then cut cells, and the backend
    only last; with a line naming what was left out and how to see it all."""
    full = short = [_shortened(row) for row in rows]
    headers = {**_HEADERS, "cost": "COST"}

    def over() -> int:
        return max(map(len, table(short, columns, headers))) - width

    hidden: list[str] = []
    for column in (*_DROP_ORDER, "cut to 12", "backend", "cut to 8"):
        if over() <= 0:
            break
        if column.startswith("cut to "):
            floor, short = int(column.removeprefix("cut to ")), full  # cut afresh, with the columns left
            for cut in (c for c in _CUT if c in columns):
                widest = max(len(row[cut]) for row in short)
                keep = max(widest - over(), len(headers.get(cut, cut)), floor)
                short = [{**row, cut: _cut(row[cut], keep)} for row in short]
        elif column in columns:
            columns, short = [c for c in columns if c != column], full  # the room it frees may undo a cut
            hidden.append(column)
    left_out = f": {', '.join(hidden)} hidden" if hidden else ""
    return [*table(short, columns, headers), f"(fitted to {width} columns{left_out}; --wide shows all)"]


def _shortened(row: Mapping[str, Any]) -> dict[str, Any]:
    from urllib.parse import urlsplit

    out = dict(row)
    backend = row["backend"]
    out["backend"] = "direct" if backend == "anthropic direct" else (urlsplit(backend).hostname or backend)
    for column in (*target.SLOTS, "default", "subagent"):
        out[column] = _model(row[column])
    effective = row.get("effective", "-")
    out["effective"] = _SHORT_EFFECTIVE.get(effective, "exec only" if effective.startswith("with llmconf") else effective)
    return out


def _model(cell: str) -> str:
    """A model ID without its vendor ('qwen/qwen3-coder' -> 'qwen3-coder'); the slot in
    brackets after a default model is kept."""
    return cell.split("/", 1)[1] if "/" in cell.split(" ", 1)[0] else cell


def _cut(cell: str, keep: int) -> str:
    return cell if len(cell) <= keep else cell[: keep - 1].rstrip() + "…"


def status_json(rows: list[dict[str, Any]], origins: Mapping[str, ProfileOrigin] | None = None) -> str:
    doc: dict[str, Any] = {"worktrees": rows}
    if origins is not None:
        doc["profiles"] = {
            name: {"source": o.source, "file": str(o.file), "extends": o.extends} for name, o in origins.items()
        }
    return document(doc)
