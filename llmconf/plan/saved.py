"""Saved plans: `plan --out FILE` now, `apply FILE` later, exactly that plan or nothing.

The file holds the plan as its JSON view (secrets redacted) and a fingerprint of every
input: worktrees.yaml, every profile file on the search path, each secret and env var the
templates read, each target settings file, and llmconf's record of it. Fingerprints are
keyed hashes (the state's salt), so the file reveals no value. apply re-plans from the
current inputs and refuses, naming what changed, unless everything is as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmconf.engine import Workspace
from llmconf.errors import LlmconfError, display_path
from llmconf.fs import write_atomic
from llmconf.config.load import CONFIG_FILE
from llmconf.plan.model import Plan
from llmconf.apply.state import record_json
from llmconf.views.plan import plan_json

KIND = "llmconf-saved-plan"
VERSION = 1


def fingerprints(ws: Workspace, plan: Plan) -> dict[str, str]:
    """What the plan was computed from, each input by name -> keyed hash (or 'absent')."""
    fp = ws.state.fingerprint

    def of_file(path: Path) -> str:
        try:
            return fp(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return "absent"

    inputs = {CONFIG_FILE: of_file(ws.config.file)}
    for folder in ws.profiles.dirs:
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
            inputs[str(path)] = of_file(path)
    for name, value in sorted(ws.reads.items()):
        inputs[name] = "absent" if value is None else fp(value)
    for wp in plan.worktrees:
        inputs[str(wp.settings)] = "absent" if wp.before_text is None else fp(wp.before_text)
        inputs[f"record:{wp.settings}"] = fp(json.dumps(record_json(ws.state.files.get(str(wp.settings)))))
    return inputs


def save(path: Path, ws: Workspace, plan: Plan, selection: list[str]) -> None:
    if not ws.state.path.exists():
        from llmconf.apply.lock import locked
        from llmconf.apply.state import load_state

        # The fingerprints' salt must outlive this run; under the lock, so that a first apply
        # running now cannot replace it (and turn this plan stale).
        with locked(ws.state.dir):
            current = load_state(ws.state.path)
            if not current.path.exists():
                current.save()
            ws.state.salt = current.salt
        if "_key" in ws.state.__dict__:
            del ws.state.__dict__["_key"]  # the cached hash key follows the salt
    doc = {
        "kind": KIND,
        "version": VERSION,
        "config_dir": str(ws.config.dir),
        "worktrees": [str(wp.worktree) for wp in plan.local] if selection else [],
        "inputs": fingerprints(ws, plan),
        "plan": json.loads(plan_json(plan)),
    }
    try:
        write_atomic(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n", mode=0o600)
    except OSError as e:
        raise LlmconfError(f"cannot write the plan: {e.strerror or e.__class__.__name__}", path) from None


def load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        doc = None
    shape = {"config_dir": str, "worktrees": list, "inputs": dict, "plan": dict}
    if not isinstance(doc, dict) or doc.get("kind") != KIND or any(
        not isinstance(doc.get(k), t) for k, t in shape.items()
    ):
        raise LlmconfError("not a saved llmconf plan", path, hint="make one with 'llmconf plan --out FILE'")
    if doc.get("version") != VERSION:
        raise LlmconfError("saved plan is from another llmconf version", path, hint="make it again")
    return doc


def check(saved: dict[str, Any], ws: Workspace, plan: Plan, path: Path) -> None:
    """Refuse (naming the first input that moved) unless `plan` is exactly the saved one."""
    now = fingerprints(ws, plan)
    before = saved["inputs"]
    for name in sorted(set(before) | set(now)):
        if before.get(name) != now.get(name):
            what = _describe(name, ws)
            raise LlmconfError(
                f"stale plan: {what} changed since the plan was made; nothing written",
                path,
                hint="make a new plan with 'llmconf plan --out FILE' and review it",
            )
    if json.loads(plan_json(plan)) != saved["plan"]:
        raise LlmconfError("stale plan: the changes differ from the saved ones; nothing written", path, hint="plan again")


def _describe(name: str, ws: Workspace) -> str:
    kind, _, rest = name.partition(":")
    if kind == "secret":
        return f"secret '{rest}'"
    if kind == "env":
        return f"environment variable {rest}"
    if kind == "record":
        return f"llmconf's record of {display_path(Path(rest))}"
    if name == CONFIG_FILE:
        return display_path(ws.config.file)
    return display_path(Path(name))


