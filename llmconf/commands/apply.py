"""llmconf apply: show the plan, confirm, write only what changes."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmconf.engine import Workspace, open_workspace
from llmconf.errors import LlmconfError
from llmconf.apply.lock import locked
from llmconf.plan.model import Action, Plan
from llmconf.apply.state import FileRecord, state_file
from llmconf.console import Ui
from llmconf.commands.plan import show


def run(args: argparse.Namespace, ui: Ui) -> int:
    with locked(state_file().parent):
        strict = getattr(args, "strict", False)
        if len(args.worktrees) == 1 and (ui.cwd / args.worktrees[0]).is_file():
            return _apply_saved(ui.cwd / args.worktrees[0], ui, strict)
        ws = open_workspace(getattr(args, "config_dir", None), ui.cwd)
        return apply_worktrees(ws, args.worktrees, args.yes, ui, strict)


def _apply_saved(path: Path, ui: Ui, strict: bool) -> int:
    """Apply a saved plan: re-plan from today's inputs, refuse unless it is the same plan."""
    from llmconf.plan import saved as savedplan

    saved = savedplan.load(path)
    ws = open_workspace(saved["config_dir"], ui.cwd)
    decls = ws.select(saved["worktrees"], ui.cwd)
    plan = ws.plan(decls)
    savedplan.check(saved, ws, plan, path)
    _refuse_if_strict(show(ws, decls, plan, ui, strict), strict)
    return confirm_and_apply(ws, plan, yes=True, ui=ui)  # reviewed when it was saved


def apply_worktrees(ws: Workspace, names: Sequence[str], yes: bool, ui: Ui, strict: bool = False) -> int:
    """Plan the named worktrees, show the plan, then write it; shared by apply and use --apply."""
    decls = ws.select(names, ui.cwd)
    plan = ws.plan(decls)
    _refuse_if_strict(show(ws, decls, plan, ui, strict), strict)
    return confirm_and_apply(ws, plan, yes, ui)


def _refuse_if_strict(warnings: list[LlmconfError], strict: bool) -> None:
    if strict and warnings:
        n = len(warnings)
        raise LlmconfError(
            f"--strict: {n} lint warning{'s' if n != 1 else ''}; nothing written", hint="fix them, or apply without --strict"
        )


def confirm_and_apply(
    ws: Workspace,
    plan: Plan,
    yes: bool,
    ui: Ui,
    records: dict[str, FileRecord | None] | None = None,
    carry: dict[str, Any] | None = None,
    verb: str = "Apply",
) -> int:
    """Refuse on errors, ask for 'yes' unless told, write, and say what was done."""
    ws.clean_after_crash()
    if plan.errors:
        for error in plan.errors:
            ui.error(error)
        ui.stderr.write("llmconf: nothing written: fix the errors above, or name the other worktrees\n")
        return 1
    if not plan.changed:
        _remember(ws, plan)
        return 0
    if not yes:
        if not ui.interactive():
            raise LlmconfError("refusing to apply without confirmation: stdin is not a terminal", hint="pass --yes")
        if not ui.confirm("Do you want to apply these changes?"):
            ui.out(f"{verb} cancelled; nothing written.")
            return 1
    written = ws.apply(plan, records, carry)
    _remember(ws, plan)
    files = len(written)
    ui.out(
        f"{verb} complete: {plan.count(Action.ADD)} added, {plan.count(Action.CHANGE)} changed, "
        f"{plan.count(Action.REMOVE)} removed (in {files} file{'s' if files != 1 else ''})."
    )
    # Claude Code reads its settings at start: a session already running keeps the old ones.
    from llmconf.targets.claude_code.effective import running_sessions

    running = running_sessions([wp.worktree for wp in written])
    for wp in written:
        if wp.worktree in running:
            pids = ", ".join(str(pid) for pid, _ in running[wp.worktree])
            ui.warn(f"{wp.name}: claude is running there (pid {pids}) on the old settings; restart it")
    return 0


def _remember(ws: Workspace, plan: Plan) -> None:
    """So that a command run inside these worktrees finds this config with no -C."""
    from llmconf.config import discover as configs

    configs.remember(ws.config.dir, [wp.worktree for wp in plan.local])
