"""Saved plans: `plan --out FILE` now, `apply FILE` later, exactly that plan or nothing.

The file holds the plan as its JSON view (secrets redacted) and a fingerprint of every
input: worktrees.yaml, every profile file on the search path, each secret and env var the
templates read, each target settings file, and llmconf's record of it. Fingerprints are
keyed hashes (the state's salt), so the file reveals no value. apply re-plans from the
current inputs and refuses, naming what changed, unless everything is as it was.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from llmconf import fs
from llmconf.apply.state import os_problem, read_own, record_json
from llmconf.config.load import CONFIG_FILE
from llmconf.errors import LlmconfError, display_path
from llmconf.fs import check_target, write_atomic
from llmconf.plan.model import Plan
from llmconf.records import replace
from llmconf.views.plan import plan_json

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.apply.state import State
    from llmconf.plan.planner import Planner

KIND = "llmconf-saved-plan"
VERSION = 1


def fingerprints(planner: Planner, plan: Plan, state: State | None = None) -> dict[str, str]:
    """What the plan was computed from, each input by name -> keyed hash (or 'absent')."""
    session = planner.session
    state = state or session.state
    fp = state.fingerprint

    def of_file(path: Path) -> str:
        try:
            return fp(fs.read_text(path, fs.CONFIG_LIMIT))
        except FileNotFoundError:
            return "absent"

    inputs = {CONFIG_FILE: of_file(session.config.file)}
    for folder in session.profiles.dirs:
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
            inputs[str(path)] = of_file(path)
    for name, value in sorted(planner.reads.items()):
        inputs[name] = "absent" if value is None else fp(value)
    for wp in plan.worktrees:
        inputs[str(wp.settings)] = "absent" if wp.before_text is None else fp(wp.before_text)
        inputs[f"record:{wp.settings}"] = fp(json.dumps(record_json(state.files.get(str(wp.settings)))))
    return inputs


def save(path: Path, planner: Planner, plan: Plan, selection: list[str]) -> None:
    check_target(path)  # a device, a read-only file, a missing folder: refused before the state's salt is made
    state = planner.session.state
    if not state.path.exists():
        from llmconf.apply.lock import locked
        from llmconf.apply.state import load_state

        # The fingerprints' salt must outlive this run; under the lock, so that a first apply
        # running now cannot replace it (and turn this plan stale).
        with locked(state.dir):
            current = load_state(state.path)
            if not current.path.exists():
                try:
                    current.save()
                except OSError as e:
                    raise os_problem(e, current.path, "cannot record llmconf's state", "; no plan written") from None
        state = replace(state, salt=current.salt)
    doc = {
        "kind": KIND,
        "version": VERSION,
        "config_dir": str(planner.session.config.dir),
        "worktrees": [str(wp.worktree) for wp in plan.local] if selection else [],
        "inputs": fingerprints(planner, plan, state),
        "plan": json.loads(plan_json(plan)),
    }
    try:
        write_atomic(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n", mode=0o600)
    except OSError as e:
        raise LlmconfError(f"cannot write the plan: {e.strerror or e.__class__.__name__}", path) from None


def load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(read_own(path).decode("utf-8"))
    except OSError as e:
        raise LlmconfError(
            f"cannot read the plan: {e.strerror or e.__class__.__name__}", path, hint="make one with 'llmconf plan --out FILE'"
        ) from None
    except (ValueError, RecursionError):
        doc = None
    shape = {"config_dir": str, "worktrees": list, "inputs": dict, "plan": dict}
    if not isinstance(doc, dict) or doc.get("kind") != KIND or any(
        not isinstance(doc.get(k), t) for k, t in shape.items()
    ) or not _sound(doc):
        raise LlmconfError("not a saved llmconf plan", path, hint="make one with 'llmconf plan --out FILE'")
    if doc.get("version") != VERSION:
        raise LlmconfError("saved plan is from another llmconf version", path, hint="make it again")
    return doc


def _sound(doc: dict[str, Any]) -> bool:
    """Whether the fields apply reads before comparing are what plan --out writes: an
    absolute config folder, and worktree paths as text."""
    paths = [doc["config_dir"], *doc["worktrees"]]
    return os.path.isabs(doc["config_dir"]) and all(isinstance(p, str) and p and "\0" not in p for p in paths)


def check(saved: dict[str, Any], planner: Planner, plan: Plan, path: Path) -> None:
    """Refuse (naming the first input that moved) unless `plan` is exactly the saved one."""
    now = fingerprints(planner, plan)
    before = saved["inputs"]
    for name in sorted(set(before) | set(now)):
        if before.get(name) != now.get(name):
            what = _describe(name, planner.session.config.file)
            raise LlmconfError(
                f"stale plan: {what} changed since the plan was made; nothing written",
                path,
                hint="make a new plan with 'llmconf plan --out FILE' and review it",
            )
    if json.loads(plan_json(plan)) != saved["plan"]:
        raise LlmconfError("stale plan: the changes differ from the saved ones; nothing written", path, hint="plan again")


def _describe(name: str, config_file: Path) -> str:
    kind, _, rest = name.partition(":")
    if kind == "secret":
        return f"secret '{rest}'"
    if kind == "env":
        return f"environment variable {rest}"
    if kind == "record":
        return f"llmconf's record of {display_path(Path(rest))}"
    if name == CONFIG_FILE:
        return display_path(config_file)
    return display_path(Path(name))


