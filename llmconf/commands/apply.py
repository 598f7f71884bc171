"""llmconf apply: show the plan, confirm, write only what changes."""

from __future__ import annotations

import argparse
from pathlib import Path

from llmconf import pipeline
from llmconf.apply.lock import locked
from llmconf.apply.state import state_file
from llmconf.console import Ui
from llmconf.session import open_for


def run(args: argparse.Namespace, ui: Ui) -> int:
    with locked(state_file().parent):
        strict = getattr(args, "strict", False)
        if len(args.worktrees) == 1 and (ui.cwd / args.worktrees[0]).is_file():
            return _apply_saved(ui.cwd / args.worktrees[0], ui, strict)
        session = open_for(getattr(args, "config_dir", None), ui.cwd)
        return pipeline.apply_worktrees(session, args.worktrees, args.yes, ui, strict)


def _apply_saved(path: Path, ui: Ui, strict: bool) -> int:
    """Apply a saved plan: re-plan from today's inputs, refuse unless it is the same plan."""
    from llmconf.plan import saved

    doc = saved.load(path)
    session = open_for(doc["config_dir"], ui.cwd)
    decls = session.select(doc["worktrees"], ui.cwd)
    plan, planner = pipeline.plan(session, decls)
    if plan.errors:  # today's plan cannot be applied at all: say why, not only that it moved
        return pipeline.confirm_and_apply(session, plan, yes=True, ui=ui)
    saved.check(doc, planner, plan, path)
    pipeline.refuse_if_strict(session, pipeline.show(session, decls, plan, ui, strict), strict)
    return pipeline.confirm_and_apply(session, plan, yes=True, ui=ui)  # reviewed when it was saved
