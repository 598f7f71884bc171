"""llmconf rollback [WORKTREE...]: put back the files the last apply changed."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from llmconf.apply import backup

from llmconf.targets.claude_code import settings as target
from llmconf import pipeline
from llmconf.apply.rollback import rollback_plan
from llmconf.errors import display_path
from llmconf.apply.lock import locked
from llmconf.apply.state import state_file
from llmconf.console import Ui
from llmconf.session import open_for
from llmconf.views.plan import plan_text


def run(args: argparse.Namespace, ui: Ui) -> int:
    with locked(state_file().parent):
        session = open_for(getattr(args, "config_dir", None), ui.cwd)
        if args.list:
            return _list(session.state.dir, ui)
        only = {target.settings_path(w.path) for w in session.select(args.worktrees, ui.cwd)} if args.worktrees else None
        plan, records, carry, warnings = rollback_plan(session.state, session.config.worktrees, only)
        for warning in warnings:
            ui.warn(warning)
        ui.out(plan_text(plan, ui.cwd, ui.color))
        return pipeline.confirm_and_apply(session, plan, args.yes, ui, records=records, carry=carry, verb="Rollback")


def _list(state_dir: Path, ui: Ui) -> int:
    """Backups by file: apply id, time and size; never their content."""
    rows = backup.listing(state_dir)
    if not rows:
        ui.out("No backups.")
        return 0
    for b in rows:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.strptime(b.name[:15], "%Y%m%dT%H%M%S"))
        ui.out(f"{display_path(b.settings, ui.cwd)}  {b.name}  {stamp}  {b.size} bytes")
    return 0
